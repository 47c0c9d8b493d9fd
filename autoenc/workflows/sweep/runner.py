"""Train the runs of a sweep: in this process one after another, or in J child processes.

Each run is a plain :func:`autoenc.fit` (in this process, or in a spawned worker process),
so its directory is a normal run directory. A run counts as finished only once fit returned
success and the completion marker is written; an interrupted run is resumed from its
``last.ckpt`` (``--ckpt_path last``) or, without one, trained again from scratch.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autoenc.core.errors import UserError
from autoenc.workflows.sweep.plan import (
    RunSpec,
    SweepPlan,
    read_marker,
    run_root,
    run_state,
    version_dir,
    write_marker,
)

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule

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


def check_config_builds(plan: SweepPlan) -> ImageDataModule:
    """Build model, data module and Trainer of the largest run without training or writing
    anything, so a typo in the config or in the overrides fails before the first run; returns
    the data module (not set up)."""
    from autoenc.training.fit import check_option_names, load_config, merge_overrides
    from autoenc.training.lightning_cli import build_cli

    run = RunSpec(max(plan.sizes), plan.seeds[0], plan.ordered, plan.size_option)
    config = merge_overrides(load_config(plan.config_path), plan.fit_overrides(run, resume=False))
    for key in ("runs_dir", "name", "ckpt_path"):  # fit's own options, not the model's
        config.pop(key, None)
    try:
        check_option_names(config)
        return build_cli(config, run=False).datamodule
    except UserError as err:
        raise UserError(f"config {str(plan.config_path)!r}: {err}") from None


def _fit_here(plan: SweepPlan, options: dict[str, Any]) -> None:
    """``autoenc.fit`` of one run in this process."""
    from autoenc.training.fit import fit

    handler = signal.getsignal(signal.SIGINT)
    try:
        fit(plan.config_path, **options)
    finally:
        # Lightning ignores SIGINT after a graceful Ctrl+C shutdown; give Ctrl+C back.
        if signal.getsignal(signal.SIGINT) != handler and handler is not None:
            signal.signal(signal.SIGINT, handler)


def _fit_in_child(config_path: str, options: dict[str, Any], log_path: str, threads: int) -> None:
    """Body of a worker process: ``autoenc.fit`` with its output in ``log_path``; the exit code
    says how it went (0 done, 2 a user error, whose line ends the log)."""
    with open(log_path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        import torch

        from autoenc.training.fit import fit

        torch.set_num_threads(threads)

        try:
            fit(config_path, **options)
        except UserError as err:
            print(f"error: {err}", file=sys.stderr, flush=True)
            sys.exit(2)


def _fit_child(plan: SweepPlan, options: dict[str, Any], log_path: Path, threads: int) -> int:
    """``autoenc.fit`` in a fresh worker process (spawned: no state shared with this one);
    returns its exit code."""
    context = multiprocessing.get_context("spawn")
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # read by the child at start-up
    try:
        worker = context.Process(target=_fit_in_child, args=(str(plan.config_path), options, str(log_path), threads))
        worker.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    worker.join()
    return worker.exitcode if worker.exitcode is not None else 1


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
    options = plan.fit_overrides(run, resume=resume)
    start = time.perf_counter()
    if child:
        code = _fit_child(plan, options, log_path, threads)
    else:
        _fit_here(plan, options)  # a UserError goes up as it is
        code = 0
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
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:
        return _train_all(plan, jobs, log)
    except (KeyboardInterrupt, SIGTERMException) as exc:
        term = isinstance(exc, SystemExit)
        print(f"sweep: interrupted ({'SIGTERM' if term else 'Ctrl-C'}); run the same sweep command again to resume "
              "it: finished runs are kept and skipped, an unfinished one continues from its last.ckpt",
              file=sys.stderr, flush=True)
        if term:  # Lightning's SIGTERMException carries no exit code
            raise SystemExit(128 + signal.SIGTERM) from None
        raise


def _train_all(plan: SweepPlan, jobs: int, log: Log) -> list[TrainOutcome]:
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
