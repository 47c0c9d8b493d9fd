"""A 2-process CPU DDP fit on digits, run by tests/training/test_training_ddp.py.

    python tests/training/ddp_fit.py OUT_DIR

Lightning's DDP launcher starts rank 1 by running this script again. Each rank writes
``OUT_DIR/rank<R>.pt``: its final state dict, the dataset indices it trained on per epoch,
the training split and its world size, so the test can compare the ranks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import torch

from autoenc.data import ImageDataModule
from autoenc.models import Autoencoder


class IndexedDigits(ImageDataModule):
    """Digits whose targets are the item indices, so each rank's batches say what it saw."""

    def setup(self, stage: str | None = None) -> None:
        super().setup(stage)
        self.data.targets = torch.arange(len(self.data.images), device=self.data.images.device)


class SeenItems(L.Callback):
    """Records the targets (= indices) of every training batch, per epoch."""

    def __init__(self) -> None:
        self.seen: dict[int, list[torch.Tensor]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen.setdefault(trainer.current_epoch, []).append(batch[1].detach().cpu())


def main(out: Path) -> None:
    L.seed_everything(0, verbose=False)
    data = IndexedDigits("digits", batch_size=32, subset=320, val_fraction=0.2, num_workers=0)
    model = Autoencoder(data.input_shape, latent_dim=4, encoder="mlp", net_options={"hidden": [16]}, lr=0.01)
    seen = SeenItems()
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_epochs=2, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[seen])
    trainer.fit(model, data)
    torch.save({
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "seen": {epoch: torch.cat(batches) for epoch, batches in seen.seen.items()},
        "train": data.splits["train"].cpu(),
        "world_size": trainer.world_size,
        "global_step": trainer.global_step,
    }, out / f"rank{trainer.global_rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
