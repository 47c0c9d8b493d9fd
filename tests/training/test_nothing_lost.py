"""A run's state is never lost: resumes through other spellings of the run's path keep
``last.ckpt`` and one best checkpoint; options that contradict the checkpoint, names that
leave ``--runs_dir`` and fits that would train nothing are refused and leave nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from _fit import CONFIGS, fit

TINY = ["-c", CONFIGS / "digits_ae.yaml", "--data.subset", "128", "--model.init_args.net_options", "{hidden: [8]}"]


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
