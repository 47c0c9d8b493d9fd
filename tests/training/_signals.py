"""A callback the process tests put into a real `autoenc fit` to stop it mid-epoch with a
signal, as a user (Ctrl-C, SIGTERM) or the kernel (SIGKILL, out of memory) would."""

from __future__ import annotations

import os
import signal

import lightning as L


class SignalAt(L.Callback):
    """Send ``signal_name`` (KILL, TERM, INT) to this process before batch ``batch`` of
    epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int, signal_name: str = "KILL") -> None:
        self.epoch, self.batch, self.signum = epoch, batch, getattr(signal, f"SIG{signal_name}")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), self.signum)


class WorseningValidation(L.Callback):
    """Make every validation epoch look worse than the one before (val/loss = 1000 + epoch),
    so only the first epoch is ever the best: the case where Lightning's save_last lags."""

    def on_validation_end(self, trainer, pl_module) -> None:  # after the epoch's metrics are final
        import torch

        if not trainer.sanity_checking:
            trainer.callback_metrics["val/loss"] = torch.tensor(1000.0 + trainer.current_epoch)
