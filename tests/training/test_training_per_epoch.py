"""Per-epoch work instead of per-step work (issue 23): evaluation metrics summed on the device
and logged once per epoch, with the same batch-size-weighted means as per-batch logging."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from autoenc.models import Autoencoder, VariationalAutoencoder


def _trainer() -> L.Trainer:
    return L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     accelerator="cpu", devices=1)


@pytest.mark.parametrize("stage", ["validate", "test"])
def test_eval_means_are_weighted_by_batch_size(stage: str) -> None:
    torch.manual_seed(0)
    model = Autoencoder((1, 8, 8), 3, encoder="mlp", net_options={"hidden": [16]})
    images = torch.rand(10, 1, 8, 8)
    loader = DataLoader(TensorDataset(images, torch.zeros(10)), batch_size=4)  # batches of 4, 4, 2
    (metrics,) = getattr(_trainer(), stage)(model, dataloaders=loader, verbose=False)
    model.eval()
    with torch.no_grad():
        per_batch = [(model(x).loss, len(x)) for x, _ in loader]
        whole = model(images).loss
    prefix = "val" if stage == "validate" else "test"
    weighted = sum(loss * n for loss, n in per_batch) / 10
    assert metrics[f"{prefix}/loss"] == pytest.approx(float(weighted), rel=1e-5)
    assert metrics[f"{prefix}/loss"] == pytest.approx(float(whole), rel=1e-4)  # the mean over images
    plain_mean = sum(loss for loss, _ in per_batch) / 3
    assert abs(float(plain_mean) - float(weighted)) > 1e-3  # the batches differ enough to tell them apart


def test_vae_eval_logs_every_term_and_each_latent_dimension() -> None:
    torch.manual_seed(0)
    model = VariationalAutoencoder((1, 8, 8), 4, encoder="mlp", net_options={"hidden": [16]})
    loader = DataLoader(TensorDataset(torch.rand(12, 1, 8, 8), torch.zeros(12)), batch_size=5)
    (metrics,) = _trainer().validate(model, dataloaders=loader, verbose=False)
    assert {"val/loss", "val/recon", "val/kl"} <= set(metrics)
    kl_dims = [metrics[f"val/kl_dim_{i}"] for i in range(4)]
    assert "val/kl_dim_4" not in metrics
    assert sum(kl_dims) == pytest.approx(metrics["val/kl"], rel=1e-4)


def _state(weight: torch.Tensor, step: int) -> dict:
    return {"state_dict": {"w": weight}, "loops": {"step": step}, "callbacks": {"Last": {"path": "x"}}}


def test_checkpoint_of_the_same_state_is_copied_not_serialised(tmp_path, monkeypatch) -> None:
    from autoenc.training import checkpoint_io
    from autoenc.training.checkpoint_io import ReusingCheckpointIO

    saves: list[str] = []
    real_save = torch.save
    monkeypatch.setattr(checkpoint_io.torch, "save", lambda obj, f, *a, **k: (saves.append(str(f)), real_save(obj, f)))
    io = ReusingCheckpointIO()
    weight = torch.arange(6.0)
    io.save_checkpoint(_state(weight, 5), tmp_path / "best.ckpt")
    io.save_checkpoint(_state(weight, 5), tmp_path / "last.ckpt")  # same tensors, same values: a copy
    assert len(saves) == 1
    assert (tmp_path / "last.ckpt").read_bytes() == (tmp_path / "best.ckpt").read_bytes()

    weight.add_(1.0)  # an optimiser step writes in place: serialise again
    io.save_checkpoint(_state(weight, 5), tmp_path / "last.ckpt")
    assert len(saves) == 2
    assert torch.equal(torch.load(tmp_path / "last.ckpt")["state_dict"]["w"], torch.arange(6.0) + 1)

    io.save_checkpoint(_state(weight, 6), tmp_path / "other.ckpt")  # loop progress differs
    assert len(saves) == 3
    (tmp_path / "other.ckpt").write_bytes(b"touched")  # the file changed behind our back
    io.save_checkpoint(_state(weight, 6), tmp_path / "again.ckpt")
    assert len(saves) == 4
    assert torch.load(tmp_path / "again.ckpt")["loops"]["step"] == 6
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_fit_writes_best_and_last_of_one_epoch_once(tmp_path, monkeypatch) -> None:
    from autoenc.training import checkpoint_io
    from autoenc.training.cli import AutoencCLI

    saves: list[str] = []
    real_save = torch.save
    monkeypatch.setattr(checkpoint_io.torch, "save", lambda obj, f, *a, **k: (saves.append(str(f)), real_save(obj, f)))
    args = {"runs_dir": str(tmp_path), "name": "r", "data": {"source": "digits", "subset": 200, "batch_size": 50},
            "model": {"class_path": "Autoencoder", "init_args": {"latent_dim": 3, "net": {"class_path": "MLPNet", "init_args": {"hidden": [16]}}}},
            "trainer": {"max_epochs": 3, "enable_progress_bar": False, "accelerator": "cpu"}}
    AutoencCLI(args={"subcommand": "fit", "fit": args})
    ckpts = tmp_path / "r" / "version_0" / "checkpoints"
    best = sorted(ckpts.glob("best*.ckpt"))
    last = torch.load(ckpts / "last.ckpt", weights_only=False)
    assert last["epoch"] == 2 and len(best) == 1
    best_epoch = torch.load(best[0], weights_only=False)["epoch"]
    assert best_epoch > 0  # a later epoch improved: its best and last were the same state
    # one serialisation per epoch, plus epoch 0's second (last.ckpt's own callback state is new then)
    assert len(saves) == 3 + 1, saves
    if best_epoch == 2:
        assert (ckpts / "last.ckpt").read_bytes() == best[0].read_bytes()


def _grid_trainer(epoch: int, max_epochs: int = 20, stop: bool = False):
    from types import SimpleNamespace

    return SimpleNamespace(current_epoch=epoch, max_epochs=max_epochs, should_stop=stop)


def test_reconstruction_grid_first_last_and_every_t_seconds() -> None:
    from autoenc.training.callbacks import ReconstructionGrid

    grid = ReconstructionGrid(every_seconds=2.0)
    assert grid.due(_grid_trainer(0), now=100.0)  # the first grid, always
    grid._last_written = 100.0
    assert not grid.due(_grid_trainer(1), now=101.0)  # a short epoch: skipped
    assert grid.due(_grid_trainer(2), now=102.0)  # 2 s after the previous grid
    assert grid.due(_grid_trainer(19), now=100.5)  # the last epoch, always
    assert grid.due(_grid_trainer(5, stop=True), now=100.5)  # early stopping ends the run here
    assert ReconstructionGrid(every_seconds=0).due(_grid_trainer(3), now=0.0)
    assert not grid.due(_grid_trainer(7, max_epochs=-1), now=100.5)  # no last epoch when training runs on


@pytest.mark.parametrize(("kwargs", "message"), [({"count": 0}, "count must be an integer >= 1, got 0"),
                                                 ({"every_seconds": -1.0}, "every_seconds must be")])
def test_reconstruction_grid_options_are_checked(kwargs: dict, message: str) -> None:
    from autoenc.core.errors import UserError
    from autoenc.training.callbacks import ReconstructionGrid

    with pytest.raises(UserError, match=message):
        ReconstructionGrid(**kwargs)


def test_short_epochs_write_fewer_grids_but_the_first_and_last(tmp_path) -> None:
    from autoenc.training.cli import AutoencCLI

    args = {"runs_dir": str(tmp_path), "name": "r", "data": {"source": "digits", "subset": 120, "batch_size": 60},
            "model": {"class_path": "Autoencoder", "init_args": {"latent_dim": 3, "net": {"class_path": "MLPNet", "init_args": {"hidden": [8]}}}},
            "trainer": {"max_epochs": 6, "enable_progress_bar": False, "accelerator": "cpu"}}
    AutoencCLI(args={"subcommand": "fit", "fit": args})
    pngs = sorted(p.name for p in (tmp_path / "r" / "version_0" / "reconstructions").glob("*.png"))
    assert pngs[0] == "epoch_0000.png" and pngs[-1] == "epoch_0005.png"
    assert len(pngs) < 6  # epochs of a few ms: the grids in between wait for 2 s to pass
