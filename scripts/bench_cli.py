"""Time ``autoenc COMMAND --help`` for every command, each in a fresh interpreter, and say which
imported torch; writes the "## CLI --help" section of docs/benchmarks.md (``--write``).

    python scripts/bench_cli.py [--repeats 3] [--commands probe,sources] [--write]

Each figure is the median wall time of ``python -m autoenc COMMAND --help`` over the repeats
(interpreter start included), on this machine as it is loaded at the time (the load average is
printed with the table).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = ("import contextlib, io, sys\nfrom autoenc.cli.main import main\n"
         "with contextlib.redirect_stdout(io.StringIO()):\n    code = main([sys.argv[1], '--help'])\n"
         "print(code, 'torch' in sys.modules)")


def time_help(command: str) -> tuple[float, bool]:
    """(seconds, whether torch was imported) of one ``autoenc COMMAND --help`` in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE, command], capture_output=True, text=True, env=env,
                         timeout=600, check=True)
    seconds = time.perf_counter() - start
    code, torch = out.stdout.split()[-2:]
    if code != "0":
        raise RuntimeError(f"autoenc {command} --help exited {code}: {out.stderr[-300:]}")
    return seconds, torch == "True"


def main() -> None:
    sys.path.insert(0, str(REPO))
    from autoenc.cli.main import COMMANDS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--commands", default=",".join(COMMANDS.list()), help="comma-separated (default: all)")
    parser.add_argument("--write", action="store_true", help="write the section of docs/benchmarks.md")
    args = parser.parse_args()
    rows = []
    for command in [c for c in args.commands.split(",") if c]:
        runs = [time_help(command) for _ in range(args.repeats)]
        rows.append((command, statistics.median(s for s, _ in runs), runs[0][1]))
        print(f"{command:>12}  {rows[-1][1]:6.2f} s  torch imported: {rows[-1][2]}", flush=True)
    load = os.getloadavg()[0]
    lines = ["## CLI --help", "",
             f"`python scripts/bench_cli.py --repeats {args.repeats}`: median wall time of `python -m autoenc COMMAND "
             f"--help` in a fresh interpreter; {platform.platform()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}, load average {load:.1f} when it finished. fit and validate are "
             "LightningCLI and import torch; every other command describes its data options from "
             "ImageDataModule's source text.", "",
             "| command | s | imports torch |", "| --- | --- | --- |"]
    lines += [f"| {c} | {s:.2f} | {'yes' if t else 'no'} |" for c, s, t in rows]
    print("\n".join(lines))
    if args.write:
        sys.path.insert(0, str(REPO / "scripts"))
        from _bench_doc import write_section

        write_section("## CLI --help", "\n".join(lines))


if __name__ == "__main__":
    main()
