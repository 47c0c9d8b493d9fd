"""Runs you can trust: the true last checkpoint, resuming in place, one version per fit,
validate writing nothing, `--trainer.default_root_dir`, and no empty run left by a failure."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
import torch
from _fit import CONFIGS, VAE_RUN_ARGS, column, fit, read_metrics

from autoenc.cli.main import main
from autoenc.runs.run import find_last_checkpoint, locate_run, reserve_version, versions

TINY = ["-c", CONFIGS / "digits_ae.yaml", "--data.subset", "128", "--model.init_args.net.init_args.hidden", "[16]",
        "--trainer.log_every_n_steps", "1"]


def _epoch_and_step(path: Path) -> tuple[int, int]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return int(ckpt["epoch"]), int(ckpt["global_step"])


def test_last_checkpoint_is_the_final_epoch_when_later_epochs_do_not_improve(tmp_path: Path) -> None:
    worse = "{class_path: _signals.WorseningValidation}"
    assert fit(*TINY, "--runs_dir", tmp_path, "--name", "r", "--trainer.max_epochs", "4",
               "--trainer.callbacks+", worse) == 0
    ckpts = tmp_path / "r" / "version_0" / "checkpoints"
    best = list(ckpts.glob("best*.ckpt"))
    assert [p.name.split("-")[1] for p in best] == ["000"]  # only the first epoch was the best
    epoch, step = _epoch_and_step(ckpts / "last.ckpt")
    assert epoch == 3 and step == 4 * 2  # 128 images * 0.85 / batch 64 -> 2 steps an epoch


def test_resume_an_explicit_checkpoint_continues_its_run(vae_run: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(vae_run, runs / "vae" / "version_0")
    best = next((runs / "vae" / "version_0" / "checkpoints").glob("best*.ckpt"))
    start_epoch, start_step = _epoch_and_step(best)
    # the run's own --runs_dir (another one is refused: tests/training/test_nothing_lost.py)
    code = fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", runs, "--name", "other",
               *VAE_RUN_ARGS, "--trainer.max_epochs", "3", "--ckpt_path", best)
    assert code == 0
    out = capsys.readouterr().out
    assert f"resuming run {runs / 'vae' / 'version_0'} at step {start_step}" in out
    assert not (runs / "other").exists()
    epoch, step = _epoch_and_step(runs / "vae" / "version_0" / "checkpoints" / "last.ckpt")
    assert epoch == 2 and step > start_step
    rows = read_metrics(runs / "vae" / "version_0")
    assert sorted({int(r["epoch"]) for r in rows if r["val/loss"]}) == [0, 1, 2]
    assert len(column(rows, "val/loss")) == 3  # every epoch once: no rows logged twice


def test_validate_writes_nothing_and_prints_its_metrics(vae_run: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.relative_to(vae_run) for p in vae_run.rglob("*"))
    code = main(["validate", "-c", str(vae_run / "config.yaml"), "--runs_dir", str(tmp_path / "runs"),
                 "--ckpt_path", str(vae_run / "checkpoints" / "last.ckpt"), "--trainer.enable_progress_bar", "false"])
    assert code == 0
    assert "val/loss" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists() and not Path("lightning_logs").exists()
    assert sorted(p.relative_to(vae_run) for p in vae_run.rglob("*")) == before


def test_default_root_dir_is_the_root_of_the_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fit(*TINY, "--name", "r", "--trainer.max_epochs", "1", "--trainer.default_root_dir", tmp_path / "root") == 0
    assert (tmp_path / "root" / "r" / "version_0" / "checkpoints" / "last.ckpt").is_file()
    capsys.readouterr()
    code = fit(*TINY, "--name", "r", "--runs_dir", tmp_path / "a", "--trainer.default_root_dir", tmp_path / "b")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "give one of them" in err[0]
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_fit_that_fails_leaves_no_empty_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "no_mnist"
    empty.mkdir()
    code = fit("-c", CONFIGS / "mnist_ae.yaml", "--runs_dir", tmp_path / "runs", "--name", "m",
               "--data.source.init_args.root", empty, "--data.source.init_args.download", "false")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert not (tmp_path / "runs").exists()
    assert list(empty.iterdir()) == []


def test_logger_off_still_gets_its_own_version(tmp_path: Path) -> None:
    for _ in range(2):
        assert fit(*TINY, "--runs_dir", tmp_path, "--name", "r", "--trainer.max_epochs", "1",
                   "--trainer.logger", "false") == 0
    assert versions(tmp_path, "r") == [0, 1]
    assert all((tmp_path / "r" / f"version_{v}" / "checkpoints" / "last.ckpt").is_file() for v in (0, 1))
    assert not (tmp_path / "r" / "checkpoints").exists()


def _reserve(args: tuple[str, str]) -> int:
    return reserve_version(*args).version


def test_concurrent_reservations_never_share_a_version(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        got = pool.map_async(_reserve, [(str(tmp_path), "r")] * 16).get(timeout=120)
    assert sorted(got) == list(range(16))


def test_locate_and_find_last(tmp_path: Path) -> None:
    loc = reserve_version(tmp_path, "r")
    (loc.path / "checkpoints").mkdir()
    loc.last_checkpoint.write_bytes(b"")
    reserve_version(tmp_path, "r")  # a newer version without a checkpoint
    assert find_last_checkpoint(tmp_path, "r") == loc
    assert locate_run(loc.last_checkpoint) == loc.__class__(tmp_path.resolve(), "r", 0)
    assert locate_run(tmp_path / "x.ckpt") is None


def test_exports_and_caches_get_the_usual_modes(vae_run: Path, tmp_path: Path) -> None:
    import os

    from autoenc.runs.checkpoints import export_encoder, load_model

    mask = os.umask(0o022)
    try:
        out = export_encoder(load_model(vae_run), tmp_path / "export")
        assert main(["features", str(vae_run), "--cache", str(tmp_path / "cache")]) == 0
    finally:
        os.umask(mask)
    for root in (out, tmp_path / "cache"):
        assert root.stat().st_mode & 0o777 == 0o755
        assert {p.stat().st_mode & 0o777 for p in root.iterdir()} == {0o644}


def test_a_logger_of_the_users_own_decides_where_the_run_goes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logger = f"{{class_path: lightning.pytorch.loggers.CSVLogger, init_args: {{save_dir: {tmp_path / 'own'}}}}}"
    assert fit(*TINY, "--runs_dir", tmp_path / "runs", "--trainer.max_epochs", "1", "--trainer.logger", logger) == 0
    assert not (tmp_path / "runs").exists()  # nothing reserved for nothing
    run = tmp_path / "own" / "lightning_logs" / "version_0"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert f"run: {run}" in capsys.readouterr().out


def test_run_opens_model_data_and_position_from_one_checkpoint(vae_run: Path) -> None:
    from autoenc.runs.run import Run

    run = Run.open(vae_run)
    assert run.path == vae_run and run.latent_dim == 10 and run.epoch == 1
    images, labels = run.images("val"), run.targets("val")
    assert images.dtype == torch.float32 and 0 <= float(images.min()) and float(images.max()) <= 1
    assert labels is not None and len(labels) == len(images)
    assert torch.equal(run.targets("val", count=5), labels[:5])
    codes = run.encode(images[:7])
    assert codes.shape == (7, 10) and not codes.requires_grad
    assert run.config["model"]["init_args"]["latent_dim"] == 10
