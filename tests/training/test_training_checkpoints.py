"""Checkpoints and encoder exports: round trips give identical outputs, files load without
unpickling code, the best checkpoint is found, damaged or foreign files are refused, and an
interrupted save never leaves a partial file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lightning as L
import pytest
import torch
from _fit import column, read_metrics
from torch.utils.data import DataLoader, TensorDataset

from autoenc.core.errors import CheckpointError, UserError
from autoenc.models import MODELS, Autoencoder, VariationalAutoencoder
from autoenc.runs import checkpoints
from autoenc.runs.checkpoints import (
    AtomicCheckpointIO,
    datamodule_config,
    export_encoder,
    load_exported_encoder,
    load_model,
    read_checkpoint,
    resolve_checkpoint,
)

SHAPE = (1, 8, 8)
NETS = {"encoder": "conv", "net_options": {"widths": [4, 8]}}  # batch norm: buffers must round-trip
OPTIONS = {"ae": {}, "dae": {"noise": "salt_and_pepper", "noise_level": 0.2}, "vae": {"beta": 2.0},
           "capacity_vae": {"capacity_max": 5.0, "capacity_steps": 10}, "tcvae": {"tc_beta": 4.0},
           "topk": {"k": 2, "aux_k": 1, "dead_after": 8}}


def trained(model_name: str, tmp_path: Path) -> tuple[L.LightningModule, Path]:
    """A model after two optimiser steps, saved by Lightning's Trainer."""
    torch.manual_seed(0)
    model = MODELS.get(model_name)(SHAPE, latent_dim=3, **NETS, **OPTIONS[model_name])
    data = DataLoader(TensorDataset(torch.rand(16, *SHAPE)), batch_size=8)
    trainer = L.Trainer(accelerator="cpu", max_steps=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(model, data)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    return model.eval(), path


@pytest.mark.parametrize("model_name", MODELS.list())
def test_save_load_gives_identical_outputs(model_name: str, tmp_path: Path) -> None:
    model, path = trained(model_name, tmp_path)
    loaded = load_model(path)
    assert type(loaded) is type(model) and not loaded.training
    assert loaded.hparams == model.hparams or dict(loaded.hparams) == {
        k: v for k, v in model.hparams.items() if not k.startswith("_")}
    x = torch.rand(5, *SHAPE)
    z = torch.randn(5, 3)
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(x), model.encode(x), rtol=0, atol=0)
        torch.testing.assert_close(loaded.decode(z), model.decode(z), rtol=0, atol=0)
        if isinstance(model, VariationalAutoencoder):
            for a, b in zip(loaded.posterior(x), model.posterior(x), strict=True):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
    for key, value in model.state_dict().items():  # batch-norm running statistics included
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)


def test_checkpoint_loads_with_weights_only(tmp_path: Path) -> None:
    _, path = trained("vae", tmp_path)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["autoenc"] == {"format": 1, "model": "vae"}
    hp = ckpt["hyper_parameters"]
    assert hp["input_shape"] == list(SHAPE) and hp["latent_dim"] == 3 and hp["beta"] == 2.0
    assert hp["_class_path"] == "autoenc.models.vae.VariationalAutoencoder"


def test_run_checkpoints_load_with_weights_only(vae_run: Path) -> None:
    for path in (vae_run / "checkpoints").glob("*.ckpt"):
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        assert ckpt["autoenc"]["model"] == "vae"
        assert ckpt["datamodule_hyper_parameters"]["source"] == {"name": "digits", "options": {}}
    assert datamodule_config(vae_run)["subset"] == 256


def _copy_with_score(src: Path, dst: Path, score: float, shift: float) -> None:
    """A copy of checkpoint ``src`` whose weights are shifted by ``shift`` and whose
    ModelCheckpoint state records ``score``."""
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    ckpt["state_dict"] = {k: v + shift if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    for key, state in ckpt["callbacks"].items():
        if key.startswith("ModelCheckpoint"):
            state["current_score"] = torch.tensor(score)
    torch.save(ckpt, dst)


def test_load_model_of_a_run_dir_picks_the_best_checkpoint(vae_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    last = vae_run / "checkpoints" / "last.ckpt"
    shutil.copy(last, run / "checkpoints" / "last.ckpt")
    better, worse = run / "checkpoints" / "best-000-4.ckpt", run / "checkpoints" / "best-001-8.ckpt"
    _copy_with_score(last, better, score=20.0, shift=0.01)
    _copy_with_score(last, worse, score=30.0, shift=0.02)  # written later: newer but worse

    assert resolve_checkpoint(run) == better
    model = load_model(run)
    expected = load_model(better)
    for key, value in expected.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0)


def test_run_dir_without_best_falls_back_to_last(vae_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(vae_run / "checkpoints" / "last.ckpt", run / "checkpoints" / "last.ckpt")
    assert resolve_checkpoint(run) == run / "checkpoints" / "last.ckpt"
    with pytest.raises(CheckpointError, match=r"no checkpoint in .*looked for checkpoints/best\*\.ckpt and last\.ckpt"):
        resolve_checkpoint(tmp_path)


def test_the_runs_best_checkpoint_has_the_lowest_val_loss(vae_run: Path) -> None:
    val_losses = column(read_metrics(vae_run), "val/loss")
    assert len(val_losses) == 2  # one per epoch
    best = read_checkpoint(resolve_checkpoint(vae_run))
    (state,) = [v for k, v in best["callbacks"].items() if k.startswith("ModelCheckpoint")]
    assert float(state["current_score"]) == pytest.approx(min(val_losses), rel=1e-6)
    assert best["epoch"] == val_losses.index(min(val_losses))


# -- refusals ------------------------------------------------------------------------------------
def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_wrong_model_class_is_refused(vae_run: Path) -> None:
    with pytest.raises(CheckpointError, match=r"holds a VariationalAutoencoder \('vae'\) model, not the Autoencoder") as e:
        load_model(vae_run, expected=Autoencoder)
    one_line(e)
    assert isinstance(load_model(vae_run, expected=VariationalAutoencoder), VariationalAutoencoder)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.ckpt"
    path.write_text("these are not weights\n")
    with pytest.raises(CheckpointError, match=r"notes\.ckpt' is not a readable checkpoint") as e:
        load_model(path)
    one_line(e)


def test_a_truncated_checkpoint_is_refused(vae_run: Path, tmp_path: Path) -> None:
    data = (vae_run / "checkpoints" / "last.ckpt").read_bytes()
    path = tmp_path / "cut.ckpt"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.ckpt' is not a readable checkpoint \(truncated") as e:
        load_model(path)
    one_line(e)


def test_a_torch_file_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError, match=r"is not an autoenc checkpoint \(no 'autoenc' entry\)"):
        load_model(path)


def test_a_pickled_object_is_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    torch.save({"autoenc": {"format": 1, "model": "ae"}, "state_dict": {}, "payload": Path("/")}, path)
    with pytest.raises(CheckpointError, match=r"pickles objects other than tensors"):
        read_checkpoint(path)


def test_a_newer_checkpoint_format_is_refused(vae_run: Path, tmp_path: Path) -> None:
    ckpt = torch.load(vae_run / "checkpoints" / "last.ckpt", weights_only=True)
    ckpt["autoenc"]["format"] = 99
    torch.save(ckpt, tmp_path / "future.ckpt")
    with pytest.raises(CheckpointError, match=r"checkpoint format 99; this autoenc reads format 1"):
        load_model(tmp_path / "future.ckpt")


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nothing\.ckpt' does not exist"):
        load_model(tmp_path / "nothing.ckpt")


# -- encoder export ------------------------------------------------------------------------------
@pytest.mark.parametrize("model_name", ["ae", "vae"])
def test_export_then_load_gives_identical_codes(model_name: str, tmp_path: Path) -> None:
    model, _ = trained(model_name, tmp_path)
    out = export_encoder(model, tmp_path / "export")
    meta = json.loads((out / "encoder.json").read_text())
    assert meta["latent_dim"] == 3 and meta["input_shape"] == list(SHAPE) and meta["encoder"] == "conv"
    encoder = load_exported_encoder(out)
    x = torch.rand(6, *SHAPE)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x), model.encode(x), rtol=0, atol=0)  # the VAE: its mean
    assert not encoder.training


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    model, _ = trained("ae", tmp_path)
    out = export_encoder(model, tmp_path / "export")
    weights = out / "encoder.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x40  # one bit of the last tensor's bytes: the file still parses
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"weights do not match encoder\.json's sha256; export again"):
        load_exported_encoder(out)


def test_tampered_or_missing_metadata_is_refused(tmp_path: Path) -> None:
    model, _ = trained("ae", tmp_path)
    out = export_encoder(model, tmp_path / "export")
    meta = json.loads((out / "encoder.json").read_text())
    (out / "encoder.json").write_text(json.dumps(meta | {"sha256": "0" * 64}))
    with pytest.raises(CheckpointError, match="sha256"):
        load_exported_encoder(out)
    (out / "encoder.json").write_text(json.dumps({"kind": "autoenc-encoder"}))
    with pytest.raises(CheckpointError, match=r"is not an autoenc encoder export \(encoder\.json lacks format"):
        load_exported_encoder(out)
    (out / "encoder.json").unlink()
    with pytest.raises(CheckpointError, match=r"encoder\.json unreadable"):
        load_exported_encoder(out)


def test_export_does_not_overwrite_unless_asked(tmp_path: Path) -> None:
    model, _ = trained("ae", tmp_path)
    export_encoder(model, tmp_path / "export")
    with pytest.raises(UserError, match=r"already exists; pass overwrite"):
        export_encoder(model, tmp_path / "export")
    export_encoder(model, tmp_path / "export", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["encoder.json", "encoder.safetensors"]


# -- atomic saves --------------------------------------------------------------------------------
def test_an_interrupted_save_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    io = AtomicCheckpointIO()
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}, "step": 1}, path)
    previous = path.read_bytes()

    real_save = torch.save

    def killed_midway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")  # some bytes reach the file, then the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.torch, "save", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "step": 2}, path)
    monkeypatch.setattr(checkpoints.torch, "save", real_save)

    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no temporary left behind
    assert path.read_bytes() == previous
    assert torch.load(path, weights_only=True)["step"] == 1
