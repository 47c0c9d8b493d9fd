"""Training callbacks: reconstruction grids per validation epoch, the non-finite-loss guard, the
last checkpoint after every epoch, and what training prints (a bar, or a line per epoch)."""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import TQDMProgressBar

from autoenc.core.constraints import POSITIVE_INT, Interval, check_params
from autoenc.core.errors import NonFiniteLossError
from autoenc.core.png import image_grid, save_png, upscale_for_viewing
from autoenc.runs.run import LAST
from autoenc.training.run_checkpoint import RunCheckpoint


class ReconstructionGrid(L.Callback):
    """After validation epochs, write ``<log_dir>/reconstructions/epoch_XXXX.png``: the first
    ``count`` validation images (top rows) above their reconstructions (bottom rows).

    A grid is written after the first and the last epoch, and in between after every epoch
    that ends at least ``every_seconds`` (wall clock) after the previous grid: every epoch of
    a run whose epochs take longer than that, about one per ``every_seconds`` on short epochs
    (a grid costs a forward pass, a PNG encode and a file: on an 8x8 digits epoch of ~0.1 s
    that was several % of the epoch's CPU time; docs/benchmarks.md). ``every_seconds=0``
    writes one after every validation epoch.
    """

    def __init__(self, count: int = 16, every_seconds: float = 2.0) -> None:
        check_params({"count": [POSITIVE_INT], "every_seconds": [Interval(float, 0, None, closed="left")]},
                     {"count": count, "every_seconds": every_seconds})
        self.count = count
        self.every_seconds = every_seconds
        self._images: torch.Tensor | None = None
        self._log_dir: str | None = None
        self._last_written: float | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        # trainer.log_dir is a collective (broadcast) in multi-process runs: every rank asks
        # here, once, instead of rank 0 alone later (which would wait forever).
        self._log_dir = trainer.log_dir

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if batch_idx == 0 and dataloader_idx == 0:
            self._images = batch[0][: self.count].detach()

    def due(self, trainer, now: float) -> bool:
        """Whether the grid of this validation epoch is written (first, last, or time is up)."""
        last_epoch = bool(trainer.max_epochs) and trainer.max_epochs > 0 and trainer.current_epoch >= trainer.max_epochs - 1
        if self._last_written is None or last_epoch or trainer.should_stop:
            return True
        return now - self._last_written >= self.every_seconds

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if self._images is None or trainer.sanity_checking or not trainer.is_global_zero or self._log_dir is None:
            return
        now = time.perf_counter()
        if not self.due(trainer, now):
            self._images = None
            return
        x = self._images
        with torch.no_grad():
            recon = pl_module.decode(pl_module.encode(x))
        grid = image_grid(torch.cat([x, recon]), ncol=len(x))
        path = Path(self._log_dir) / "reconstructions" / f"epoch_{trainer.current_epoch:04d}.png"
        save_png(grid, path, scale=upscale_for_viewing(x.shape[-2], 64))
        self._images = None
        self._last_written = now


class NonFiniteLossGuard(L.Callback):
    """Stop training when the loss becomes NaN or infinite, before the bad step changes the
    weights; the last checkpoint written so far stays the last good one.

    In data-parallel runs the ranks agree first (one boolean all-reduce per step), so every
    process stops at the same step instead of the healthy ones waiting forever for the
    gradients of the one that stopped."""

    def on_before_backward(self, trainer, pl_module, loss: torch.Tensor) -> None:
        finite = bool(torch.isfinite(loss))
        stop = not finite
        if trainer.world_size > 1:
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            ckpt = _last_checkpoint(trainer)
            keep = f"; the last good checkpoint is {ckpt}" if ckpt else "; no checkpoint was written yet"
            what = f"loss became {loss.item()}" if not finite else "loss became non-finite in another process"
            raise NonFiniteLossError(
                f"{what} at step {trainer.global_step} (epoch {trainer.current_epoch})"
                f"{keep}; lower the learning rate or check the data"
            )


def _last_checkpoint(trainer) -> str | None:
    return next((cb.path for cb in trainer.checkpoint_callbacks if isinstance(cb, LastCheckpoint) and cb.path), None)


class LastCheckpoint(RunCheckpoint):
    """``checkpoints/last.ckpt``: the state after every training epoch (validation included),
    whether or not the epoch improved the best score, and the state at an interrupt (Ctrl-C,
    SIGTERM) so ``--ckpt_path last`` continues where the run stopped.

    Lightning's ``save_last=True`` writes ``last.ckpt`` only when a monitored checkpoint is
    saved (a new best), so a run whose last epochs do not improve would resume from an older
    epoch; this is a separate, unmonitored checkpoint that always keeps the newest state. A
    non-finite loss is not an interrupt: the guard leaves the last completed epoch's file.
    """

    def __init__(self, dirpath: str | None = None) -> None:
        super().__init__(dirpath=dirpath, filename=Path(LAST).stem, monitor=None, save_top_k=1, every_n_epochs=1,
                         save_on_train_epoch_end=True, save_on_exception=True, enable_version_counter=False)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt | SystemExit):  # Lightning's SIGTERMException is a SystemExit
            super().on_exception(trainer, pl_module, exception)

    @property
    def path(self) -> str:
        """The last checkpoint written (empty before the first)."""
        return self.best_model_path


class EpochSummary(L.Callback):
    """One line per training epoch on stdout, for logs and terminals without a progress bar:
    ``epoch 3/60  step 120  train/loss 31.20  val/loss 30.85 nats/image  1.2 s``.

    ``train/loss`` is the mean over the epoch's batches (accumulated on the device, read once
    per epoch); ``val/loss`` is the epoch's validation loss."""

    def __init__(self) -> None:
        self._sum: torch.Tensor | None = None
        self._count = 0
        self._start = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._sum, self._count, self._start = None, 0, time.perf_counter()

    on_train_start = on_train_epoch_start  # a resume in the middle of an epoch skips its on_train_epoch_start

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            loss = loss.detach().float()
            self._sum = loss if self._sum is None else self._sum + loss
            self._count += 1

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero:
            return
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0
                 else f"epoch {trainer.current_epoch + 1}", f"step {trainer.global_step}"]
        if self._sum is not None and self._count:
            parts.append(f"train/loss {float(self._sum) / self._count:.2f}")
        val = trainer.callback_metrics.get("val/loss")
        if val is not None:
            parts.append(f"val/loss {float(val):.2f}")
        parts[-1] += " nats/image" if len(parts) > 2 else ""
        parts.append(f"{time.perf_counter() - self._start:.1f} s")
        print("  ".join(parts), flush=True)


class LossProgressBar(TQDMProgressBar):
    """Lightning's progress bar showing ``train/loss`` and ``val/loss`` (nats/image)."""

    def get_metrics(self, trainer, pl_module) -> dict:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        for key in ("train/loss", "val/loss"):
            value = trainer.callback_metrics.get(key)
            if value is not None:
                items[key] = f"{float(value):.2f}"
        return items
