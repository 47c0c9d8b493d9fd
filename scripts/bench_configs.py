"""What each config in configs/ costs to train: measured steps, extrapolated to the full run.

For every ``configs/*.yaml`` this builds what ``autoenc fit -c CONFIG`` builds, through the
same :class:`~autoenc.training.cli.AutoencCLI` (model, optimizer, data module with the
config's batch size, image shape and channels; the config's trainer settings), but swaps the
data source for ``autoenc.data.Fake`` noise images of the real source's shape, so nothing is
downloaded or rendered. It then runs the real Lightning path, ``Trainer.fit`` (training_step,
backward, optimizer step, the non-finite-loss guard), for ``warmup + steps`` training batches
and one validation pass of ``warmup + steps`` batches, with no logger, no checkpoints and no
progress bar, and times the last ``steps`` of each with a callback (wall clock between batch
ends, so fetching the batch from the in-memory tensor is included).

The full run is then: training batches = the stopping rule of Lightning applied to the
config's trainer (``max_epochs`` from the config or the CLI default of 10, ``max_steps``
when set, whichever comes first) over ``ceil(train items / batch)`` batches per epoch, where
train items = the REAL source's item count (known without loading it:
``source.estimated_bytes / bytes per image``; ``data.subset`` when set) minus the validation
share, rounded as ImageDataModule does; plus one validation pass per epoch (forward only,
timed the same way). Left out: one-time costs (download, decoding or rendering the data,
process start), per-epoch callbacks of a real fit (reconstruction grid, checkpoint writes),
and the decoding cost of sources that stream from disk (an image folder larger than the
memory budget). An image folder has no fixed size: its row is per 10,000 images.

Threads: the table is measured with ONE torch thread by default. On a machine shared with
other jobs (this one: 2 cores, load 6-9), two threads wait for each other at every op's
barrier while the other is descheduled, and a step took 2.6-12x longer than with one thread
(the ``--probe`` config is timed both ways to show it each run). One thread under load is
therefore an upper bound for what an idle 2-core machine needs: one thread there is at most
this fast, two threads usually faster.

    nice -n 10 .venv/bin/python scripts/bench_configs.py            # all configs, writes docs
    nice -n 10 .venv/bin/python scripts/bench_configs.py configs/mnist_vae.yaml --no-doc
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from _bench_doc import write_section

from autoenc.core.yaml_io import load_yaml

ROOT = Path(__file__).resolve().parents[1]
#: Items assumed for a source whose size depends on the user's files (image_folder).
NOMINAL_ITEMS = 10_000
#: A config whose full run exceeds this on this machine gets a CPU-sized hint.
CPU_BUDGET_S = 30 * 60
#: ... with at most this many epochs (more distinct images beat more passes over fewer).
HINT_MAX_EPOCHS = 2


@dataclass
class Cost:
    """Measured per-batch times and the extrapolated full run of one config."""

    config: str
    shape: tuple[int, int, int]
    items: int
    nominal: bool
    train_items: int
    val_items: int
    batch: int
    train_s: float  # wall seconds per training batch
    train_cpu_s: float  # process CPU seconds per training batch (all threads)
    val_s: float  # wall seconds per validation batch
    steps_per_epoch: int
    val_batches: int
    epochs: float
    train_batches: int
    stop: str
    stop_note: str  # how the stopping rule came about, when it is not plain max_epochs
    capacity_steps: int | None  # a capacity-annealed VAE's schedule length (scales with a short run)

    @property
    def total_s(self) -> float:
        return self.train_batches * self.train_s + math.ceil(self.epochs) * self.val_batches * self.val_s

    def cpu_hint(self, budget_s: float = CPU_BUDGET_S) -> str | None:
        """CLI overrides that bring the run under ``budget_s`` on this machine, or None."""
        if self.total_s <= budget_s or self.nominal:
            return None
        epochs = max(1, min(math.ceil(self.epochs), HINT_MAX_EPOCHS))
        # seconds per item of the subset: its training share plus its validation share
        share = self.train_items / (self.train_items + self.val_items)
        per_item = (share * self.train_s + (1 - share) * self.val_s) / self.batch
        subset = max(1000, int(budget_s / (epochs * per_item)) // 1000 * 1000)
        hint = f"--trainer.max_epochs {epochs}"
        if subset < self.items:
            hint = f"--data.subset {subset} {hint}"
        else:
            subset = self.items
        if self.capacity_steps is not None and self.capacity_capped(subset, epochs):
            # keep the config's schedule: C reaches its maximum at the same share of the run
            hint_steps = epochs * math.ceil(subset * self.train_items / self.items / self.batch)
            share = min(1.0, self.capacity_steps / self.train_batches)
            hint += f" --model.init_args.capacity_steps {max(1, round(share * hint_steps, -2)):.0f}"
        return hint

    def capacity_capped(self, subset: int, epochs: int) -> bool:
        """Whether a run of ``epochs`` over ``subset`` items ends before capacity annealing does."""
        return epochs * math.ceil(subset * self.train_items / self.items / self.batch) < (self.capacity_steps or 0)


class BatchClock(L.Callback):
    """Wall and CPU time at the end of every training and validation batch."""

    def __init__(self) -> None:
        self.train: list[tuple[float, float]] = []
        self.val: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.train.append((time.perf_counter(), time.process_time()))

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if not trainer.sanity_checking:
            self.val.append(time.perf_counter())


def _per_batch(stamps: list[float], warmup: int) -> float:
    """Mean seconds per batch after ``warmup`` batches (stamps are batch-end times)."""
    if len(stamps) <= warmup:
        raise RuntimeError(f"only {len(stamps)} batches ran; need more than the {warmup} warm-up batches")
    return (stamps[-1] - stamps[warmup - 1]) / (len(stamps) - warmup)


def _quiet_trainer(root: str) -> dict[str, Any]:
    return {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
            "enable_model_summary": False, "default_root_dir": root}


def _cli(config: dict[str, Any]):
    from autoenc.core.quiet import lightning_quiet
    from autoenc.training.cli import AutoencCLI

    with lightning_quiet():
        return AutoencCLI(args=config, run=False)


def bench_config(path: Path, warmup: int, steps: int) -> Cost:
    """Time ``steps`` training and validation batches of the config at ``path`` after
    ``warmup`` batches, on stand-in data, and extrapolate to the config's full run."""
    from autoenc.core.errors import UserError
    from autoenc.core.quiet import lightning_quiet
    from autoenc.training.callbacks import NonFiniteLossGuard

    raw = load_yaml(path.read_text())
    with tempfile.TemporaryDirectory(prefix="bench_configs_") as root:
        # The real config as `autoenc fit` resolves it (CLI defaults included), built but not
        # run: the source's size and shape, the trainer's stopping rule.
        quiet = {**raw.get("trainer", {}), **_quiet_trainer(root)}
        try:
            real = _cli({**raw, "trainer": quiet})
            nbytes = real.datamodule.source.estimated_bytes(real.datamodule.image_size, real.datamodule.channels)
        except UserError:  # the source needs files that are not here (an image folder): its
            # shape is then the config's image_size and channels, its size nominal
            real = _cli({**raw, "data": {**raw["data"], "source": "fake"}, "trainer": quiet})
            nbytes = None
        dm, trainer = real.datamodule, real.trainer
        shape = tuple(dm.input_shape)
        nominal = nbytes is None
        items = NOMINAL_ITEMS if nominal else nbytes // math.prod(shape)
        if dm.subset is not None:
            items = min(items, dm.subset)
        val_items = max(1, round(items * dm.val_fraction))  # as ImageDataModule._split
        train_items = items - val_items
        batch = dm.batch_size
        steps_per_epoch = math.ceil(train_items / batch)
        if trainer.accumulate_grad_batches != 1:
            raise RuntimeError(f"{path.name}: accumulate_grad_batches != 1 is not modelled")
        max_epochs = trainer.max_epochs if trainer.max_epochs not in (None, -1) else math.inf
        max_steps = trainer.max_steps if trainer.max_steps not in (None, -1) else math.inf
        by_epochs = max_epochs * steps_per_epoch
        train_batches = int(min(by_epochs, max_steps))
        stop = "max_epochs" if by_epochs <= max_steps else "max_steps"
        given = raw.get("trainer") or {}
        stop_note = ""
        if "max_epochs" not in given and stop == "max_epochs":
            stop_note = f"CLI default max_epochs {trainer.max_epochs}"
            if max_steps < math.inf:
                stop_note += f", before max_steps {trainer.max_steps:,}"
        capacity_steps = (getattr(real.model, "hparams", {}) or {}).get("capacity_steps")
        capacity_steps = capacity_steps if (getattr(real.model, "hparams", {}) or {}).get("capacity_max") else None
        epochs = train_batches / steps_per_epoch / trainer.check_val_every_n_epoch
        del real

        # The same config on noise images of the same shape, half of them for validation so
        # a short validation pass exists whatever the config's val_fraction.
        n = warmup + steps
        data = {**raw["data"], "source": {"class_path": "autoenc.data.Fake", "init_args": {"size": 2 * n * batch}},
                "image_size": shape[1], "channels": shape[0], "val_fraction": 0.5, "subset": None}
        clock = BatchClock()
        trainer_cfg = {**raw.get("trainer", {}), **_quiet_trainer(root), "max_epochs": 1, "max_steps": -1,
                       "limit_train_batches": n, "limit_val_batches": n, "num_sanity_val_steps": 0,
                       "check_val_every_n_epoch": 1, "val_check_interval": None}
        fake = _cli({**raw, "data": data, "trainer": trainer_cfg})
        fake.trainer.callbacks.extend([clock, NonFiniteLossGuard()])
        with lightning_quiet():
            fake.trainer.fit(fake.model, datamodule=fake.datamodule)
    walls = [w for w, _ in clock.train]
    cpus = [c for _, c in clock.train]
    return Cost(
        config=path.name, shape=shape, items=items, nominal=nominal, train_items=train_items,
        val_items=val_items, batch=batch, train_s=_per_batch(walls, warmup), train_cpu_s=_per_batch(cpus, warmup),
        val_s=_per_batch(clock.val, warmup), steps_per_epoch=steps_per_epoch,
        val_batches=math.ceil(val_items / batch), epochs=epochs, train_batches=train_batches, stop=stop,
        stop_note=stop_note, capacity_steps=capacity_steps,
    )


def human(seconds: float) -> str:
    """'45 s', '12 min', '3.4 h', '2.1 days'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def table(costs: list[Cost]) -> str:
    head = ("| config | images (C x H x W) | train / val items | batch | s/step | CPU s/step | val s/batch "
            "| steps/epoch | epochs | est. total (2 cores, 1 thread) | CPU-sized run |")
    rows = [head, "| " + " | ".join(["---"] * 11) + " |"]
    for c in costs:
        items = f"{c.train_items:,} / {c.val_items:,}" + (" (per 10k images)" if c.nominal else "")
        epochs = f"{c.epochs:g}" if c.stop == "max_epochs" else f"{c.epochs:.1f} ({c.train_batches:,} steps)"
        epochs += f" ({c.stop_note})" if c.stop_note else ""
        hint = c.cpu_hint()
        rows.append(
            f"| {c.config} | {' x '.join(map(str, c.shape))} | {items} | {c.batch} | {c.train_s:.3f} | "
            f"{c.train_cpu_s:.3f} | {c.val_s:.3f} | {c.steps_per_epoch:,} | {epochs} | **{human(c.total_s)}** | "
            f"{'`' + hint + '`' if hint else 'as is'} |"
        )
    return "\n".join(rows)


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown CPU"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"`lscpu | grep 'Model name'`: {model}; {os.cpu_count()} cores, torch threads: {torch.get_num_threads()}, "
            f"{gpu}; torch {torch.__version__}, Lightning {L.__version__}, Python {platform.python_version()}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="*", type=Path, help="default: every configs/*.yaml")
    p.add_argument("--warmup", type=int, default=2, help="batches run before timing starts")
    p.add_argument("--steps", type=int, default=6, help="batches timed (training and validation each)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for the table (1: see the module docstring)")
    p.add_argument("--probe", type=Path, default=ROOT / "configs" / "digits_vae.yaml",
                   help="config timed again with every core as threads, to show what contention does")
    p.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    paths = args.configs or sorted((ROOT / "configs").glob("*.yaml"))
    load_before = os.getloadavg()
    started = time.perf_counter()
    costs = []
    for path in paths:
        cost = bench_config(path, args.warmup, args.steps)
        print(f"{cost.config}: {cost.train_s:.3f} s/step, {cost.val_s:.3f} s/val batch -> {human(cost.total_s)}",
              flush=True)
        costs.append(cost)
    probe = {}
    for threads in sorted({args.threads, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        probe[threads] = bench_config(args.probe, args.warmup, args.steps)
    torch.set_num_threads(args.threads)
    probe_line = "; ".join(f"{t} thread{'s' if t > 1 else ''}: {c.train_s:.3f} s/step ({c.train_cpu_s:.3f} CPU s), "
                           f"est. total {human(c.total_s)}" for t, c in probe.items())
    print(f"probe {args.probe.name}: {probe_line}")
    load_after = os.getloadavg()
    elapsed = time.perf_counter() - started
    out = table(costs)
    print(out)
    if args.no_doc:
        return
    command = "nice -n 10 .venv/bin/python scripts/bench_configs.py" + (
        f" --warmup {args.warmup} --steps {args.steps}" if (args.warmup, args.steps) != (2, 6) else "")
    load = (f"load average (1/5/15 min) {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} at the start, "
            f"{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} at the end")
    section = f"""## Config costs

Command: `{command}` ({dt.date.today().isoformat()}, {elapsed / 60:.1f} min in all)

Machine: {machine()} (the table's thread count; see below). Shared with other agents' jobs:
{load}. On 2 cores that load means this process got a fraction of a core, so the times below
are **upper bounds** for an idle 2-core machine; the CPU s/step column (process CPU time) is
the work itself, and a step on an idle machine needs about that much wall time with one
thread, less with two.

Why one thread: under this load two torch threads make things worse, not better: they spin
at every op's barrier while the other thread is descheduled. Same run, `{args.probe.name}`:
{probe_line}. A user on a shared machine should set `OMP_NUM_THREADS=1` (or
`torch.set_num_threads(1)`).

What: each config built as `autoenc fit -c CONFIG` builds it (AutoencCLI: same model,
optimizer, batch size, image shape, trainer settings), with the data source swapped for
noise images of the same shape (`autoenc.data.Fake`, in memory like every config's real data
except a large image folder). `Trainer.fit` runs {args.warmup} + {args.steps} training batches
and a validation pass of {args.warmup} + {args.steps} batches; the last {args.steps} of each are
timed (no logger, checkpoints or progress bar). Full run = Lightning's stopping rule on the
config's trainer (`max_epochs`, or the CLI default of 10; `max_steps` when it comes first)
over ceil(train items / batch) steps per epoch, train items = the real source's size (or
`data.subset`) less the validation share, plus one validation pass per epoch. Not included:
downloading, decoding or rendering the data once, process start, checkpoint writes and the
reconstruction grid each epoch. No GPU was lent to this task, so no GPU column: nothing here
is measured on one. "CPU-sized run": overrides computed from the measured rates to bring
the run under {CPU_BUDGET_S // 60} min here (at most {HINT_MAX_EPOCHS} epochs, a subset of the data).

{out}
"""
    write_section("## Config costs", section)
    print("wrote the 'Config costs' section of docs/benchmarks.md")


if __name__ == "__main__":
    main()
