"""A run's state is never lost: resumes through other spellings of the run's path keep
``last.ckpt`` and one best checkpoint; options that contradict the checkpoint, names that
leave ``--runs_dir`` and fits that would train nothing are refused and leave nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from _fit import CONFIGS, fit

TINY = ["-c", CONFIGS / "digits_ae.yaml", "--data.subset", "128", "--model.init_args.net.init_args.hidden", "[8]"]


def test_resume_through_dotdot_keeps_last_and_one_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    monkeypatch.chdir(proj)
    assert fit(*TINY, "--runs_dir", "runs", "--name", "ae", "--trainer.max_epochs", "1") == 0
    ckpts = proj / "runs" / "ae" / "version_0" / "checkpoints"
    assert fit(*TINY, "--runs_dir", "runs", "--name", "ae", "--trainer.max_epochs", "2",
               "--ckpt_path", "../proj/runs/ae/version_0/checkpoints/last.ckpt") == 0
    assert (ckpts / "last.ckpt").is_file()
    assert len(list(ckpts.glob("best-*.ckpt"))) == 1, sorted(p.name for p in ckpts.iterdir())
    assert fit(*TINY, "--runs_dir", "runs", "--name", "ae", "--trainer.max_epochs", "3", "--ckpt_path", "last") == 0
    assert (ckpts / "last.ckpt").is_file()
    assert len(list(ckpts.glob("best-*.ckpt"))) == 1, sorted(p.name for p in ckpts.iterdir())


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-epoch run (latent_dim 8, from digits_ae.yaml); copy before changing."""
    runs = tmp_path_factory.mktemp("runs")
    assert fit(*TINY, "--runs_dir", runs, "--name", "ae", "--trainer.max_epochs", "1") == 0
    return runs / "ae" / "version_0"


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--model.init_args.latent_dim", "5", "--model.init_args.latent_dim 5 contradicts the checkpoint"),
    ("--runs_dir", "elsewhere", "--runs_dir 'elsewhere' contradicts the checkpoint"),
])
def test_resume_refuses_options_that_contradict_the_checkpoint(ae_run: Path, tmp_path: Path, option: str, value: str,
                                                               says: str, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = _listing(ae_run)
    code = fit(*TINY, "--trainer.max_epochs", "2", "--ckpt_path", ae_run / "checkpoints" / "last.ckpt", option, value)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err
    if option.endswith("latent_dim"):
        assert "latent_dim 8" in err[0]
    else:
        assert str(ae_run.parents[1]) in err[0]
    assert _listing(ae_run) == before and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "says"), [
    (["--name", "../../x"], "--name must be one folder name"),
    (["--name", "a/b"], "--name must be one folder name"),
    (["--name", ".."], "--name must be one folder name"),
    (["--name", "n" * 300], "--name must be one folder name"),
    (["--trainer.max_epochs", "0"], "--trainer.max_epochs must be an integer >= 1"),
    (["--trainer.max_steps", "0"], "--trainer.max_steps must be an integer >= 1"),
])
def test_refused_fits_leave_nothing(tmp_path: Path, args: list[str], says: str,
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = fit(*TINY, "--runs_dir", tmp_path / "runs" / "deep", "--trainer.max_epochs", "1", *args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_reserving_a_version_that_cannot_be_created_leaves_no_runs_dir(tmp_path: Path) -> None:
    from autoenc.core.errors import UserError
    from autoenc.runs.run import reserve_version

    (tmp_path / "file").write_text("in the way")
    with pytest.raises(UserError, match="--name must be one folder name"):
        reserve_version(tmp_path / "runs" / "deep", "n" * 256)
    with pytest.raises(UserError, match="cannot create"):
        reserve_version(tmp_path / "file" / "runs", "ae")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_validate_into_a_log_file_prints_no_progress_bar_frames(ae_run: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    log = tmp_path / "validate.log"
    with open(log, "w") as f:
        proc = subprocess.run([str(Path(sys.executable).with_name("autoenc")), "validate", *map(str, TINY),
                               "--ckpt_path", str(ae_run / "checkpoints" / "last.ckpt")], stdout=f, stderr=f,
                              env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=240)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "val/recon" in text and "\r" not in text and "Validation DataLoader" not in text, text
