"""Training callbacks: reconstruction grids per validation epoch, the non-finite-loss guard."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from autoenc.errors import NonFiniteLossError
from autoenc.imaging import image_grid, save_png, upscale_for_viewing


class ReconstructionGrid(L.Callback):
    """After each validation epoch, write ``<log_dir>/reconstructions/epoch_XXXX.png``: the
    first ``count`` validation images (top rows) above their reconstructions (bottom rows)."""

    def __init__(self, count: int = 16) -> None:
        self.count = count
        self._images: torch.Tensor | None = None

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if batch_idx == 0 and dataloader_idx == 0:
            self._images = batch[0][: self.count].detach()

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if self._images is None or trainer.sanity_checking or not trainer.is_global_zero or trainer.log_dir is None:
            return
        x = self._images
        with torch.no_grad():
            recon = pl_module.decode(pl_module.encode(x))
        grid = image_grid(torch.cat([x, recon]), ncol=len(x))
        path = Path(trainer.log_dir) / "reconstructions" / f"epoch_{trainer.current_epoch:04d}.png"
        save_png(grid, path, scale=upscale_for_viewing(x.shape[-2], 64))
        self._images = None


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
    cb = getattr(trainer, "checkpoint_callback", None)
    path = getattr(cb, "last_model_path", "") or getattr(cb, "best_model_path", "")
    return path or None
