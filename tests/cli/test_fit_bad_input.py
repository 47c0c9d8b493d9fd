"""`autoenc fit` / `validate` on hostile input, in-process: exit 2, exactly one stderr line,
no traceback, and no new file anywhere under the test's directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoenc.cli.main import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
QUIET = ["--trainer.enable_progress_bar", "false"]


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


CASES = {
    "negative max_epochs": (["--trainer.max_epochs", "-3"], r"max_epochs"),
    "max_epochs not a number": (["--trainer.max_epochs", "many"], r"max_epochs"),
    "zero max_steps below -1": (["--trainer.max_steps", "-5"], r"max_steps"),
    "runs_dir is a file": (["--runs_dir", "{tmp}/afile"], r"afile"),
    "runs_dir under a file": (["--runs_dir", "{tmp}/afile/runs"], r"afile"),
    "runs_dir unwritable": (["--runs_dir", "/proc/autoenc-runs"], r"/proc/autoenc-runs"),
    "checkpoint missing": (["--ckpt_path", "{tmp}/nope.ckpt"], r"nope\.ckpt' does not exist"),
    "checkpoint is a directory": (["--ckpt_path", "{tmp}"], r"is a directory"),
    "last with no run": (["--ckpt_path", "last", "--runs_dir", "{tmp}/empty"], r"no .*last\.ckpt to resume"),
    "root dir and runs_dir disagree": (["--runs_dir", "{tmp}/a", "--trainer.default_root_dir", "{tmp}/b"],
                                       r"give one of them"),
    "subset zero": (["--data.subset", "0"], r"subset"),
    "val_fraction above one": (["--data.val_fraction", "1.5"], r"val_fraction"),
    "unknown trainer option": (["--trainer.max_epoch_s", "3"], r"max_epoch_s"),
    "config missing": (["-c", "{tmp}/none.yaml"], r"none\.yaml"),
    "negative learning rate": (["--model.init_args.lr", "-1"], r"lr must be a number > 0, got -1"),
    "devices zero": (["--trainer.devices", "0"], r"devices"),
    "config not YAML": (["-c", "{repo}/README.md"], r"-c takes a YAML config"),
    "optimizer value torch refuses": (["--trainer.max_epochs", "1", "--data.subset", "64", "--optimizer", "SGD",
                                       "--optimizer.lr", "-1"], r"optimizer options: Invalid learning rate"),
    "unknown accelerator": (["--trainer.accelerator", "quantum"], r"accelerator"),
}


@pytest.mark.parametrize(("extra", "message"), CASES.values(), ids=CASES.keys())
def test_fit_bad_input(extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    before = tree(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)).replace("{repo}", str(CONFIGS.parent)) for a in extra]
    code = main(["fit", "-c", str(CONFIGS / "digits_ae.yaml"), "--runs_dir", str(tmp_path / "runs"), *args, *QUIET])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(message, lines[0]), lines[0]
    assert tree(tmp_path) == before


def test_validate_without_a_checkpoint_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "-c", str(CONFIGS / "digits_ae.yaml"), "--runs_dir", str(tmp_path / "runs"), *QUIET])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "give --ckpt_path" in lines[0]
    assert list(tmp_path.iterdir()) == []
