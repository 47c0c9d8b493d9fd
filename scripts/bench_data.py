"""Data-source benchmarks; each prints a markdown table row for docs/benchmarks.md.

    python scripts/bench_data.py --which sprites
    python scripts/bench_data.py --which loader --repeats 7

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
from functools import partial

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


def _epoch(loader, convert: Callable) -> int:
    """Iterate ``loader`` once, converting each batch; returns the number of images seen."""
    seen = 0
    for batch in loader:
        x, _ = convert(batch)
        seen += len(x)
    return seen


def bench_loader(n: int = 60_000, batch_sizes: Sequence[int] = (128, 512), repeats: int = 7,
                 seed: int = 0) -> list[dict[str, str]]:
    """One training epoch of batches: the in-memory ``ImageDataModule`` vs a plain DataLoader.

    Both sides serve the same (n, 1, 28, 28) random uint8 images (MNIST's shape and size;
    content does not change the cost) with int64 labels, shuffled, and convert every batch
    to float32 in [0, 1], in this process, alternating epoch by epoch:

    * autoenc: ``ImageDataModule.train_dataloader()`` (TensorBatches: one permutation,
      then each batch is one tensor index) + ``on_after_batch_transfer`` (the uint8 ->
      float conversion), i.e. what the Trainer runs; the validation split is 2 items.
    * baseline: ``DataLoader(TensorDataset(images, labels), batch_size, shuffle=True)``,
      default collation (per-item indexing, then ``torch.stack``), no workers, plus the
      same conversion, over the same training items.

    One warm-up epoch each, then ``repeats`` epochs each; the best epoch counts.

    Returns:
        one row per batch size: column name -> formatted cell; "DataLoader / autoenc" > 1
        means the module is faster.
    """
    import time

    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from autoenc.data import ImageArrays, ImageDataModule, ImageSource
    from autoenc.data.transforms import to_float

    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)

    class Held(ImageSource):  # the tensors above as a source (not registered)
        name = "bench_held"
        native_shape = (1, 28, 28)

        def load(self, image_size, channels):
            return ImageArrays(images, labels)

    rows = []
    for batch_size in batch_sizes:
        module = ImageDataModule(Held(), batch_size=batch_size, val_fraction=2 / n, seed=seed, num_workers=0)
        module.setup("fit")
        train = module.splits["train"]
        ours = module.train_dataloader()
        theirs = DataLoader(TensorDataset(images[train], labels[train]), batch_size=batch_size, shuffle=True)

        epoch_ours = partial(_epoch, ours, lambda b, m=module: m.on_after_batch_transfer(b, 0))
        epoch_theirs = partial(_epoch, theirs, lambda b: (to_float(b[0]), b[1]))
        if not epoch_ours() == epoch_theirs() == len(train):  # warm-up; same number of items
            raise RuntimeError("the two loaders served different numbers of items")
        times: dict[str, list[float]] = {"ours": [], "theirs": []}
        for _ in range(repeats):
            for side, run in (("ours", epoch_ours), ("theirs", epoch_theirs)):
                start = time.perf_counter()
                run()
                times[side].append(time.perf_counter() - start)
        ours_s, theirs_s = min(times["ours"]), min(times["theirs"])
        rows.append({
            "benchmark": "one epoch, 1 x 28 x 28 uint8 -> float",
            "batch": str(batch_size),
            "images": f"{len(train):,}",
            "autoenc s": f"{ours_s:.3f}",
            "DataLoader s": f"{theirs_s:.3f}",
            "DataLoader / autoenc": f"{theirs_s / ours_s:.1f}",
            "autoenc images/s": f"{len(train) / ours_s:,.0f}",
            "DataLoader images/s": f"{len(train) / theirs_s:,.0f}",
        })
    return rows


BENCHMARKS: dict[str, Callable[..., dict[str, str] | list[dict[str, str]]]] = {
    "sprites": bench_sprites_grid,
    "loader": bench_loader,
}


def markdown(row: dict[str, str] | list[dict[str, str]]) -> str:
    """A markdown table of one row (or several with the same columns): header, rule, values."""
    rows = row if isinstance(row, list) else [row]
    cells = [list(rows[0]), ["---"] * len(rows[0]), *(list(r.values()) for r in rows)]
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
