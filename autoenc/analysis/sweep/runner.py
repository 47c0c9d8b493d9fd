"""Train the runs of a sweep: in this process one after another, or in J child processes.

Each run is a plain ``autoenc fit`` (``python -m autoenc.cli.main fit ...`` in a child process),
so its directory is a normal run directory. A run counts as finished only once fit returned
success and the completion marker is written; an interrupted run is resumed from its
``last.ckpt`` (``--ckpt_path last``) or, without one, trained again from scratch.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autoenc.errors import UserError
from autoenc.quiet import lightning_quiet

from .plan import RunSpec, SweepPlan, read_marker, run_root, run_state, version_dir, write_marker

TRAIN_LOG = "train.log"
Log = Callable[[str], None]


@dataclass(frozen=True)
class TrainOutcome:
    """What happened to one run in this invocation.

    Attributes:
        status: ``skipped`` (already finished), ``trained`` (from scratch) or ``resumed``.
        seconds: wall time of this invocation's training (0 when skipped).
        run_dir: the run's ``version_N`` directory.
    """

    run: RunSpec
    status: Literal["skipped", "trained", "resumed"]
    seconds: float
    run_dir: Path


def check_config_builds(plan: SweepPlan) -> None:
    """Build model, data module and Trainer of the largest run without training or writing
    anything, so a typo in the config or in ``fit_args`` fails before the first run."""
    from jsonargparse import ArgumentError

    from autoenc.cli._config import find_user_error, one_line_error
    from autoenc.training.cli import AutoencCLI

    run = RunSpec(max(plan.sizes), plan.seeds[0], plan.ordered)
    argv = [*plan.fit_argv(run, resume=False), "--trainer.logger", "false"]
    saved = sys.argv
    sys.argv = sys.argv[:1]
    try:
        with lightning_quiet():
            AutoencCLI(args=argv, run=False)
    except SystemExit as exc:
        raise UserError(f"config {str(plan.config_path)!r} does not build a model: {' '.join(str(exc.code).split())}") from None
    except Exception as err:  # constructors' UserErrors arrive wrapped by jsonargparse
        cause = find_user_error(err)
        if cause is not None:
            raise UserError(f"config {str(plan.config_path)!r}: {cause}") from None
        if isinstance(err, ArgumentError):
            raise UserError(f"config {str(plan.config_path)!r}: {one_line_error(err)}") from None
        raise
    finally:
        sys.argv = saved


def _fit_here(argv: list[str]) -> int:
    """``autoenc fit`` in this process; returns its exit code (1 when interrupted)."""
    from autoenc.cli.train import fit

    handler = signal.getsignal(signal.SIGINT)
    try:
        return fit(argv)
    finally:
        # Lightning ignores SIGINT after a graceful Ctrl+C shutdown; give Ctrl+C back.
        if signal.getsignal(signal.SIGINT) != handler and handler is not None:
            signal.signal(signal.SIGINT, handler)


def _fit_child(argv: list[str], log_path: Path, threads: int) -> int:
    """``python -m autoenc.cli.main fit ...`` in a child process, output appended to ``log_path``."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with open(log_path, "a") as log:
        return subprocess.call([sys.executable, "-m", "autoenc.cli.main", "fit", *argv],
                               stdout=log, stderr=subprocess.STDOUT, env=env)


def _last_error(log_path: Path) -> str:
    try:
        lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    errors = [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or [""])[-1][:300]


def train_one(plan: SweepPlan, run: RunSpec, *, child: bool = False, threads: int = 1,
              log: Log = print) -> TrainOutcome:
    """Train ``run`` unless finished: resume from last.ckpt when one exists, else start over
    in an empty run directory. Writes the completion marker when fit succeeds."""
    root = run_root(plan, run)
    state = run_state(plan, run)
    if state == "done":
        marker = read_marker(root) or {}
        return TrainOutcome(run, "skipped", 0.0, root / str(marker.get("run_dir", "")))
    resume = state == "partial"
    if not resume and root.exists():
        shutil.rmtree(root)  # a run that died before its first checkpoint: nothing to keep
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / TRAIN_LOG
    log(f"{'resuming' if resume else 'training'} {run.name}" + (f" (log: {log_path})" if child else ""))
    argv = plan.fit_argv(run, resume=resume)
    start = time.perf_counter()
    if child:
        code = _fit_child(argv, log_path, threads)
    else:
        with lightning_quiet():
            code = _fit_here(argv)
    seconds = time.perf_counter() - start
    run_dir = version_dir(root)
    if code != 0 or run_dir is None:
        detail = f": {_last_error(log_path)}" if child else ""
        raise UserError(f"training {run.name} stopped (exit code {code}){detail}; run the same sweep command "
                        "again to resume it")
    write_marker(root, run, run_dir, seconds, resumed=resume)
    return TrainOutcome(run, "resumed" if resume else "trained", seconds, run_dir)


def train_all(plan: SweepPlan, jobs: int = 1, log: Log = print) -> list[TrainOutcome]:
    """Train every unfinished run of ``plan``.

    Args:
        jobs: 1 trains in this process, one run after another; J > 1 runs J child processes at
            once, each with ``cpu_count // J`` threads and its output in ``runs/<name>/train.log``.

    Returns:
        One :class:`TrainOutcome` per run, in ``plan.runs()`` order.

    Raises:
        UserError: a run failed (the finished ones keep their markers, so a rerun resumes).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UserError(f"--jobs must be an integer >= 1, got {jobs!r}")
    runs = plan.runs()
    if jobs == 1:
        return [train_one(plan, run, log=log) for run in runs]
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(train_one, plan, run, child=True, threads=threads, log=log) for run in runs]
        errors = [f.exception() for f in futures]
    failed = [e for e in errors if e is not None]
    if failed:
        raise failed[0]
    return [f.result() for f in futures]
