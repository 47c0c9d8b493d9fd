"""`autoenc fit` on bad input: one line on stderr, exit code 2, nothing half-written; and a
loss that turns NaN stops training with the step named and the last checkpoint intact."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import torch

from autoenc.cli.main import main
from autoenc.models import Autoencoder, AutoencoderModule, VariationalAutoencoder

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]



def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    """(exit code, the single stderr line) of ``autoenc fit ARGS``; fails unless stderr is
    exactly one line."""
    code = main(["fit", *(str(a) for a in args), *QUIET])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("autoenc fit: error: ")
    return code, lines[0]


def digits_ae(runs: Path, *extra: object) -> list[object]:
    return ["-c", CONFIGS / "digits_ae.yaml", "--runs_dir", runs, *extra]


def vae_checkpoint(path: Path) -> Path:
    """A checkpoint of a digits VAE as autoenc writes them (no training needed)."""
    model = VariationalAutoencoder((1, 8, 8), latent_dim=8, encoder="mlp", net_options={"hidden": [256, 128]})
    ckpt = {"state_dict": model.state_dict(), "global_step": 0, "epoch": 0}
    model.on_save_checkpoint(ckpt)
    torch.save(ckpt, path)
    return path


BAD_OPTIONS = [
    (["--model.init_args.latent_dim", "0"], r"latent_dim must be an integer >= 1, got 0"),
    (["--model.init_args.lattent_dim", "3"], r"Autoencoder does not accept option 'lattent_dim'.*did you mean 'latent_dim'"),
    (["--model.init_args.latent_dim", "eight"], r"model\.init_args\.latent_dim: expected int; got eight"),
    (["--data.batch_size", "-4"], r"batch_size must be an integer >= 1, got -4"),
    (["--model.init_args.net", "ConvNet", "--model.init_args.net.widths", "[4, 8]", "--model.init_args.net.downsamples", "2",
      "--data.image_size", "10"], r"image size 10 is not divisible by 2\*\*2 = 4 .* use image size 8 or 12"),
    (["--model", "VariationalAutoencoder", "--model.init_args.beta", "-1"], r"beta must be a number >= 0, got -1\.0"),
    (["--model", "DenoisingAutoencoder", "--model.init_args.noise", "masking", "--model.init_args.noise_level", "1.5"],
     r"noise_level for masking noise must be a number in \[0\.0, 1\.0\], got 1\.5"),
    (["--model", "DenoisingAutoencoder", "--model.init_args.noise", "salt_and_pepper",
      "--model.init_args.noise_level", "-0.1"], r"noise_level for salt_and_pepper noise must be a number in \[0\.0, 1\.0\], got -0\.1"),
    (["--model.init_args.likelihood", "poisson"], r"likelihood"),
    (["--trainer.max_epocs", "3"], r"max_epocs"),
    (["--data.source", "digitz"], r"digitz"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_OPTIONS, ids=lambda v: v[0].strip("-") if isinstance(v, list) else None)
def test_bad_options_are_one_line_and_write_nothing(extra: list[str], message: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, line = run(capsys, *digits_ae(tmp_path / "runs", *extra))
    assert code == 2
    assert re.search(message, line), line
    assert not (tmp_path / "runs").exists()


def test_not_a_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.ckpt"
    notes.write_text("not weights\n")
    code, line = run(capsys, *digits_ae(tmp_path / "runs", "--ckpt_path", notes))
    assert code == 2 and "notes.ckpt' is not a readable checkpoint" in line
    assert not (tmp_path / "runs").exists()


def test_truncated_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = vae_checkpoint(tmp_path / "whole.ckpt").read_bytes()
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(whole[: len(whole) // 3])
    code, line = run(capsys, "-c", CONFIGS / "digits_vae.yaml", "--runs_dir", tmp_path / "runs", "--ckpt_path", cut)
    assert code == 2 and "cut.ckpt' is not a readable checkpoint (truncated" in line
    assert not (tmp_path / "runs").exists()


def test_checkpoint_of_another_model_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = vae_checkpoint(tmp_path / "vae.ckpt")
    code, line = run(capsys, *digits_ae(tmp_path / "runs", "--ckpt_path", ckpt))
    assert code == 2
    assert "holds a VariationalAutoencoder ('vae') but the config's model is Autoencoder" in line
    assert not (tmp_path / "runs").exists()


def test_checkpoint_for_other_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same class, but the data now has another image size: refused before training."""
    ckpt = vae_checkpoint(tmp_path / "vae.ckpt")
    code, line = run(capsys, "-c", CONFIGS / "digits_vae.yaml", "--runs_dir", tmp_path / "runs",
                     "--model.init_args.latent_dim", "8", "--model.init_args.lr", "0.001",  # the checkpoint's
                     "--data.image_size", "12", "--ckpt_path", ckpt)
    assert code == 2 and "does not fit the configured model: decoder." in line
    assert not (tmp_path / "runs").exists()


def test_non_finite_loss_stops_at_that_step(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bad_step = 6  # 4 steps per epoch: the NaN comes in the second epoch, after a checkpoint

    def nan_at_bad_step(self: AutoencoderModule, x: torch.Tensor):
        out = AutoencoderModule.training_output(self, x)
        if self.global_step == bad_step:
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(Autoencoder, "training_output", nan_at_bad_step)
    runs = tmp_path / "runs"
    code, line = run(capsys, *digits_ae(runs, "--data.subset", "128", "--data.batch_size", "32",
                                        "--trainer.max_epochs", "5", "--trainer.log_every_n_steps", "1"))
    assert code == 2
    assert f"loss became nan at step {bad_step} (epoch 1)" in line
    assert "last good checkpoint is" in line and "last.ckpt" in line

    run_dir = runs / "digits_ae" / "version_0"
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4  # the end of epoch 0: training stopped in epoch 1
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values())
    from autoenc.runs.checkpoints import load_model

    assert isinstance(load_model(run_dir / "checkpoints" / "last.ckpt"), Autoencoder)
    with open(run_dir / "metrics.csv", newline="") as f:
        steps = [int(r["step"]) for r in csv.DictReader(f)]
    assert max(steps) < bad_step  # nothing was trained or logged after the bad step


def test_checkpointing_can_be_turned_off(tmp_path):
    """`--trainer.enable_checkpointing false` trains without writing checkpoints (the default
    ModelCheckpoint is only added when checkpointing is on)."""
    from autoenc.cli.main import main

    code = main(["fit", "-c", "configs/digits_ae.yaml", "--runs_dir", str(tmp_path), "--trainer.max_steps", "3",
                 "--trainer.enable_checkpointing", "false", "--trainer.enable_progress_bar", "false"])
    assert code == 0
    run = tmp_path / "digits_ae" / "version_0"
    assert (run / "config.yaml").is_file() and not (run / "checkpoints").exists()


def test_without_a_logger_the_run_still_goes_under_runs_dir(tmp_path, monkeypatch):
    from autoenc.cli.main import main

    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    config = Path(__file__).resolve().parents[2] / "configs" / "digits_ae.yaml"
    assert main(["fit", "-c", str(config), "--runs_dir", str(runs), "--trainer.max_steps", "2",
                 "--trainer.logger", "false", "--trainer.enable_progress_bar", "false"]) == 0
    assert (runs / "digits_ae" / "version_0" / "config.yaml").is_file()
    assert (runs / "digits_ae" / "version_0" / "checkpoints" / "last.ckpt").is_file()
    assert not (tmp_path / "config.yaml").exists()


def test_fit_help_lists_autoencs_options_before_the_trainers(capsys) -> None:
    from autoenc.cli.main import main

    assert main(["fit", "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: autoenc ")
    positions = [text.index(option) for option in ("  --name NAME", "  --model CONFIG", "  --data CONFIG",
                                                   "  --trainer.accelerator ACCELERATOR")]
    assert positions == sorted(positions)
