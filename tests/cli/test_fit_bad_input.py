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
    "negative seed": (["--seed_everything", "-1"], r"^autoenc fit: error: seed_everything: -1 is not in bounds.*"
                                                   r"give a seed in \[0, 2\*\*32\)"),
    "unknown model": (["--model", "Autoencodr"], r"model: unknown class 'Autoencodr' \(did you mean 'Autoencoder'\?\); "
                                                 r"known: Autoencoder, BetaTCVAE, CapacityVAE, DenoisingAutoencoder, "),
    "unknown optimiser": (["--optimizer", "Adamm"], r"optimizer: unknown class 'Adamm' \(did you mean 'Adam'\?\); "
                                                    r"known: .*AdamW.*SGD"),
    "binary config": (["-c", "{tmp}/binary.yaml"], r"the config is not UTF-8 text"),
    "UTF-16 config": (["-c", "{tmp}/utf16.yaml"], r"the config is not UTF-8 text \(a binary file, or UTF-16\?\)"),
    "empty config": (["-c", "{tmp}/empty.yaml"], r"the config is empty; -c takes a YAML config"),
    "nan learning rate": (["--model.init_args.lr", "nan"], r"lr: expected float; got nan, which is not a finite number"),
    "source name with its options": (["--data.source", "image_folder", "--data.source.init_args.root", "{tmp}/none"],
                                     r"none"),
}


@pytest.mark.parametrize(("extra", "message"), CASES.values(), ids=CASES.keys())
def test_fit_bad_input(extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "binary.yaml").write_bytes(b"\x00\x01\xff\xfe")
    (tmp_path / "utf16.yaml").write_bytes("trainer: {max_epochs: 1}\n".encode("utf-16"))
    (tmp_path / "empty.yaml").write_bytes(b"")
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
