"""Data-source benchmarks; each prints a markdown table row for docs/benchmarks.md.

    python scripts/bench_data.py --which sprites

Every measurement runs in a fresh Python subprocess, so the parent's memory (and anything a
previous benchmark left behind) is not counted in the peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
from collections.abc import Callable, Sequence

# Child program: import, note the RSS the imports cost, time the work, report JSON.
_SPRITES_CHILD = """
import json, resource, time
import torch
from autoenc.data.sprites import Sprites
imports_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if {floor}:
    images = torch.zeros(Sprites().estimated_bytes({size}, 1), dtype=torch.uint8)
    n = len(Sprites())
else:
    data = Sprites().load({size}, 1)
    images, n = data.images, len(data)
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(n=n, seconds=seconds, nbytes=images.nbytes, imports_kb=imports_kb,
                      peak_kb=peak_kb)))
"""


def _run_child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter and parse the JSON line it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_sprites_grid(image_size: int = 64, repeats: int = 1) -> dict[str, str]:
    """The full dSprites grid (737,280 images) rendered by ``Sprites().load``.

    Baseline, in its own subprocess: allocating and zeroing a uint8 array of the same size
    (``torch.zeros``), the least any in-memory source must do. Peak RSS is compared to the
    array size, both in total and above the RSS the imports alone cost.

    Returns:
        column name -> formatted cell, in table order.
    """
    runs = [_run_child(_SPRITES_CHILD.format(size=image_size, floor=False)) for _ in range(repeats)]
    floors = [_run_child(_SPRITES_CHILD.format(size=image_size, floor=True)) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    floor = min(floors, key=lambda r: r["seconds"])
    peak = max(r["peak_kb"] for r in runs) * 1024
    imports = min(r["imports_kb"] for r in runs) * 1024
    gb = 1e9
    return {
        "benchmark": f"sprites full grid, load({image_size}, 1)",
        "images": f"{best['n']:,}",
        "seconds": f"{best['seconds']:.2f}",
        "floor s (torch.zeros)": f"{floor['seconds']:.2f}",
        "x floor": f"{best['seconds'] / floor['seconds']:.1f}",
        "uint8 array GB": f"{best['nbytes'] / gb:.2f}",
        "peak RSS GB": f"{peak / gb:.2f}",
        "RSS / array": f"{peak / best['nbytes']:.2f}",
        "RSS after imports GB": f"{imports / gb:.2f}",
        "(RSS - imports) / array": f"{(peak - imports) / best['nbytes']:.2f}",
    }


BENCHMARKS: dict[str, Callable[..., dict[str, str]]] = {
    "sprites": bench_sprites_grid,
}


def markdown(row: dict[str, str]) -> str:
    """A markdown table of one row: header, rule, values."""
    cells = [list(row), ["---"] * len(row), list(row.values())]
    return "\n".join("| " + " | ".join(line) + " |" for line in cells)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--which", choices=[*BENCHMARKS, "all"], default="all")
    parser.add_argument("--image-size", type=int, default=64, help="image side, for benchmarks that take one (default 64)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement; best time kept")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.which == "all" else [args.which]
    options = {"image_size": args.image_size, "repeats": args.repeats}
    for name in names:
        bench = BENCHMARKS[name]
        accepted = inspect.signature(bench).parameters  # each takes the options it knows
        print(markdown(bench(**{k: v for k, v in options.items() if k in accepted})))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
