"""What `autoenc fit` leaves behind: the run directory's files, resuming in place with
`--ckpt_path last`, and `--print_config`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from _fit import CONFIGS, VAE_RUN_ARGS, column, fit, read_metrics
from PIL import Image

from autoenc.runs.checkpoints import load_model


def test_run_directory_layout(vae_run: Path) -> None:
    assert (vae_run / "config.yaml").is_file()
    config = yaml.safe_load((vae_run / "config.yaml").read_text())
    assert config["model"]["class_path"].endswith("VariationalAutoencoder")
    assert config["model"]["init_args"]["latent_dim"] == 10
    assert config["data"]["subset"] == 256

    ckpts = sorted(p.name for p in (vae_run / "checkpoints").iterdir())
    assert "last.ckpt" in ckpts
    assert any(name.startswith("best") and name.endswith(".ckpt") for name in ckpts)
    assert not [n for n in ckpts if n.startswith(".")]  # no temporaries from atomic saves

    rows = read_metrics(vae_run)
    for key in ("train/loss", "train/recon", "train/kl", "val/loss", "val/recon", "val/kl", "val/neg_elbo",
                "val/kl_dim_0", "val/kl_dim_9"):
        values = column(rows, key)
        assert values and all(torch.isfinite(torch.tensor(values))), key
    kl_dims = [column(rows, f"val/kl_dim_{i}")[-1] for i in range(10)]
    assert sum(kl_dims) == pytest.approx(column(rows, "val/kl")[-1], rel=1e-4)

    for epoch in (0, 1):
        png = vae_run / "reconstructions" / f"epoch_{epoch:04d}.png"
        with Image.open(png) as im:
            # 16 originals above their 16 reconstructions, 8x8 digits shown 8x larger
            assert im.size[0] > im.size[1] > 2 * 8 * 8


def test_resume_continues_the_same_version(vae_run: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(vae_run, runs / "vae" / "version_0")
    before = torch.load(runs / "vae" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)

    code = fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", runs, "--name", "vae", *VAE_RUN_ARGS,
               "--trainer.max_epochs", "3", "--ckpt_path", "last")
    assert code == 0
    assert sorted(p.name for p in (runs / "vae").iterdir()) == ["version_0"]
    after = torch.load(runs / "vae" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert after["global_step"] > before["global_step"] and after["epoch"] == 2
    assert not list((runs / "vae" / "version_0" / "checkpoints").glob("last-v*.ckpt"))

    rows = read_metrics(runs / "vae" / "version_0")
    epochs = sorted({int(r["epoch"]) for r in rows if r["val/loss"]})
    assert epochs == [0, 1, 2]  # earlier metrics kept, the new epoch appended
    steps = [int(r["step"]) for r in rows if r["train/loss"]]
    assert steps == sorted(steps) and len(steps) == len(set(steps))
    assert (runs / "vae" / "version_0" / "reconstructions" / "epoch_0002.png").is_file()


def test_resume_without_a_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", tmp_path / "runs", "--ckpt_path", "last")
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ckpt_path last: no" in err[0] and "last.ckpt to resume" in err[0]
    assert not (tmp_path / "runs").exists()


def test_explicit_ckpt_path_restarts_from_its_weights(vae_run: Path, tmp_path: Path) -> None:
    """A checkpoint kept outside any run directory starts a new version from those weights
    (model options that contradict it are refused: tests/training/test_nothing_lost.py)."""
    runs = tmp_path / "runs"
    ckpt = tmp_path / "weights.ckpt"
    shutil.copy(vae_run / "checkpoints" / "last.ckpt", ckpt)
    code = fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", runs, "--name", "again", *VAE_RUN_ARGS,
               "--trainer.max_epochs", "3", "--ckpt_path", ckpt)
    assert code == 0
    model = load_model(runs / "again" / "version_0" / "checkpoints" / "last.ckpt")
    assert model.hparams.net["init_args"]["hidden"] == [32]


def test_print_config_prints_yaml_with_latent_dim(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", tmp_path / "runs",
               "--model.init_args.latent_dim", "7", "--print_config")
    assert code == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["init_args"]["latent_dim"] == 7
    assert config["data"]["source"] == "digits"
    assert not (tmp_path / "runs").exists()


def test_validate_last_reports_without_touching_the_run(vae_run: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from autoenc.cli.main import main

    runs = tmp_path / "runs"
    shutil.copytree(vae_run, runs / "vae" / "version_0")
    metrics = (runs / "vae" / "version_0" / "metrics.csv").read_text()
    code = main(["validate", "-c", str(CONFIGS / "digits_vae.yaml"), "--runs_dir", str(runs), "--name", "vae",
                 *VAE_RUN_ARGS, "--trainer.enable_progress_bar", "false", "--ckpt_path", "last"])
    assert code == 0
    assert "val/recon" in capsys.readouterr().out
    assert (runs / "vae" / "version_0" / "metrics.csv").read_text() == metrics
    assert sorted(p.name for p in (runs / "vae").iterdir()) == ["version_0"]  # validate writes no run
