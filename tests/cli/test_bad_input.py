"""Bad input to every non-training command, in-process through ``autoenc.cli.main.main``: each
case must end with exit code 2, exactly one line on stderr (``autoenc CMD: error: ...``), no
traceback, and no new file or directory anywhere under the test's folder or the run it reads.

Placeholders in argv: ``{run}`` a tiny trained VAE run, ``{npy}`` an (N, D) array, ``{file}``
a plain file, ``{adir}`` an existing directory, ``{ro}`` a directory nobody may write to,
``{tmp}`` the test's folder (also the working directory, so default outputs land there).
``enospc`` cases make every fsync fail as on a full disk.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import numpy as np
import pytest

from autoenc.cli.main import main

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "digits_vae.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A VAE run on 300 digits, one short epoch (a few seconds)."""
    runs = tmp_path_factory.mktemp("runs")
    code = main(["fit", "-c", str(CONFIG), "--runs_dir", str(runs), "--name", "tiny",
                 "--model.init_args.latent_dim", "3", "--model.init_args.net.init_args.hidden", "[16]",
                 "--data.subset", "300", "--data.num_workers", "0", "--trainer.max_epochs", "1",
                 "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"])
    assert code == 0
    return runs / "tiny" / "version_0"


def tree(*roots: Path) -> set[str]:
    """Every path (files and directories) under ``roots``."""
    return {str(p) for root in roots for p in root.rglob("*")}


def read_only(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``path`` unwritable: by mode bits, and (root ignores them) by refusing the calls that
    create entries in it with PermissionError, as the kernel does for other users."""
    path.chmod(0o555)
    inside = str(path) + os.sep

    def refuse(real):
        def call(target, *args, **kwargs):
            if isinstance(target, (str, os.PathLike)) and os.fspath(target).startswith(inside):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(target))
            return real(target, *args, **kwargs)
        return call

    for name in ("mkdir", "open"):
        monkeypatch.setattr(os, name, refuse(getattr(os, name)))


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fsync fails with ENOSPC (no file name), as a write to a full disk does."""
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


# (argv, regex the error line must match, "enospc" / "ro" / None)
LOOK = [
    # reconstruct
    (["reconstruct", "{run}", "--count", "-1"], r"--count must be an integer >= 1, got -1", None),
    (["reconstruct", "{tmp}/no_run", "--data.source.init_args.root", "{tmp}"], r"run '.*no_run': no such file", None),
    (["reconstruct", "{run}", "--columns", "0"], r"--columns must be an integer >= 1, got 0", None),
    (["reconstruct", "{run}", "--ncol", "4"], r"unrecognized arguments: --ncol 4 \(did you mean '--columns'\?\)", None),
    # a positional is never offered as an option (it was: --rum -> "did you mean '--run'?")
    (["reconstruct", "{run}", "--rum", "4"], r"unrecognized arguments: --rum 4(?! \(did you mean '--run')", None),
    (["reconstruct", "{run}", "--indices", "[a,b]"], r"indices: expected integers separated by commas", None),
    (["reconstruct", "{run}", "--batch_size", "0"], r"--batch_size must be an integer >= 1, got 0", None),
    (["reconstruct", "{run}", "--out", "{file}"], r"is a file", None),
    (["reconstruct", "{run}", "--out", "{file}/sub"], r"is a file", None),
    (["reconstruct", "{run}", "--out", "{ro}/out"], r"(?i)permission denied|not writable", "ro"),
    (["reconstruct", "{run}", "--out", "{tmp}/new/deep"], r"(?i)no space left on device", "enospc"),
    (["reconstruct", "{tmp}/missing"], r"no checkpoint|not found|does not exist", None),
    (["reconstruct", "{run}", "--data.image_size", "abc"], r"data.image_size: expected int or None; got abc", None),
    (["reconstruct", "{run}", "--data.bogus", "1"], r"bogus", None),
    # traverse
    (["traverse", "{run}", "--steps", "0"], r"--steps must be an integer >= 2", None),
    (["traverse", "{run}", "--gif_steps", "1"], r"--gif_steps must be an integer >= 2", None),
    (["traverse", "{run}", "--sigma", "-1"], r"range|sigma", None),
    (["traverse", "{run}", "--sigma", "nan"], r"range|sigma", None),
    (["traverse", "{run}", "--top", "0"], r"--top must be an integer >= 1 or null, got 0", None),
    (["traverse", "{run}", "--count", "-1"], r"--count must be an integer >= 0, got -1", None),
    (["traverse", "{run}", "--frame_ms", "5"], r"--frame_ms must be an integer in \[10, 655350\] .*got 5", None),
    (["traverse", "{run}", "--frame_ms", "100000000000"], r"--frame_ms must be an integer in \[10, 655350\]", None),
    (["traverse", "{run}", "--sigma", "inf"], r"sigma: expected float; got inf", None),
    (["traverse", "{run}", "--dims", "[-1]"], r"--dims must be a list of integers >= 0 or null, got \[-1\]", None),
    (["traverse", "{run}", "--dims", "0,99"], r"latent dimension 99", None),
    (["traverse", "{run}", "--out", "{adir}"], r"traversal.png.* is a directory", None),
    # sample
    (["sample", "{run}", "--count", "-3"], r"--count must be an integer >= 1, got -3", None),
    (["sample", "{run}", "--split", "test"], r"split: expected one of 'train', 'val'; got test", None),
    (["sample", "{run}", "--batch_size", "-1"], r"--batch_size must be an integer >= 1, got -1", None),
    (["sample", "{run}", "--seed", "99999999999999999999999"], r"--seed must be an integer in \[0, 4294967296\)", None),
    (["sample", "{run}", "--out", "{tmp}/s"], r"(?i)no space left on device", "enospc"),
    # interpolate
    (["interpolate", "{run}", "--pairs", "[[0,999]]"], r"image index 999 is out of range", None),
    (["interpolate", "{run}", "--count", "0"], r"--count must be an integer >= 1, got 0", None),
    (["interpolate", "{run}", "--steps", "-2"], r"--steps must be an integer >= 2", None),
    (["interpolate", "{run}", "--method", "bogus"], r"bogus.*linear", None),
    (["interpolate", "{run}", "--pairs", "[[0,1,2]]"], r"pairs: expected", None),
    # latent-map
    (["latent-map", "{run}", "--max_points", "1"], r"--max_points must be an integer >= 2, got 1", None),
    (["latent-map", "{run}", "--method", "umap"], r"umap.*pca", None),
    (["latent-map", "{run}", "--method", "tsne", "--seed", "-3"], r"--seed must be an integer in \[0, 4294967296\), got -3", None),
    (["latent-map", "{run}", "--color_by", "nosuch"], r"nosuch", None),
    (["latent-map", "{run}", "--method", "tsne", "--max_points", "3"], r"t-SNE needs at least 4 points, got 3", None),
    # report
    (["report", "{tmp}/missing"], r"no checkpoint|not found|does not exist", None),
    (["report", "{run}", "--out", "{file}"], r"is a file", None),
    (["report", "{run}", "--batch_size", "0"], r"--batch_size must be an integer >= 1, got 0", None),
    (["report", "{run}", "--color_by", "nosuch"], r"nosuch", None),
    (["report", "{run}", "--out", "{tmp}/r"], r"(?i)no space left on device", "enospc"),
]

PREVIEW = [
    (["preview", "--count", "0"], r"--count must be an integer >= 1, got 0", None),
    (["preview", "--count", "abc"], r"count: expected int; got abc", None),
    (["preview", "--columns", "-1"], r"--columns must be an integer >= 1 or null, got -1", None),
    (["preview", "--data.source", "nosuch"], r"unknown data source 'nosuch'", None),
    (["preview", "--split", "test"], r"split: expected one of 'all', 'train', 'val'; got test", None),
    (["preview", "--out", "{tmp}/p.txt"], r"unknown image type", None),
    (["preview", "--out", "{file}/p.png"], r"is a file|not a directory", None),
    (["preview", "--out", "{tmp}/pic.png"], r"pic.png.* is a directory", None),
    (["preview", "--out", "{ro}/p.png"], r"(?i)permission denied|not writable", "ro"),
    (["preview", "--out", "{tmp}/new/sub/p.png"], r"(?i)no space left on device", "enospc"),
    (["preview", "--data.image_size", "-3"], r"image_size", None),
    (["preview", "--data.subset", "-1"], r"subset", None),
    (["preview", "--data.batch_size", "0"], r"batch_size", None),
    (["preview", "--data.bogus", "1"], r"unrecognized arguments: --data.bogus", None),
    (["preview", "--data.val_fraction", "2"], r"val_fraction", None),
    (["preview", "--data", "{file}"], r"must hold a mapping", None),
    (["preview", "--data.image_size"], r"--data.image_size: expected one argument", None),
    (["preview", "--data", "{tmp}/nope.yaml"], r"no such file", None),
    (["sources", "nosuch*"], r"no data source matches", None),
    (["sources", "--bogus"], r"unrecognized arguments", None),
]

ID = [
    (["id", "{npy}", "--out", "{tmp}/o", "--chunk_mb", "inf"], r"^autoenc id: error: chunk_mb: expected float; got inf, which is not a finite number; --chunk_mb must be "
     r"a number > 0 \(finite\) \(see", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--fraction", "nan"], r"fraction: expected float; got nan, which is not a finite number; --fraction must be a number in \(0, 1\)", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--k", "0"], r"--k must be an integer >= 2 or null, got 0", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--k", "5000"], r"\bk\b.*5000", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--repeats", "-1"], r"--repeats must be one of 0 \(no subsamples\) or an integer >= 2, got -1", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--fraction", "0"], r"--fraction must be a number in \(0, 1\), got 0", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--fraction", "1.5"], r"--fraction must be a number in \(0, 1\), got 1.5", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--levels", "0"], r"--levels must be an integer >= 1, got 0", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--seed", "-1"], r"--seed must be an integer in \[0, 4294967296\), got -1", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--variance", "2"], r"variance", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--chunk_mb", "-1"], r"--chunk_mb must be a number > 0", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--max_points", "1"], r"--max_points must be an integer >= 2", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--n1", "0"], r"n1", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--discard_fraction", "-0.1"], r"discard_fraction", None),
    (["id", "{npy}", "--out", "{tmp}/o", "--device", "nosuch"], r"--device", None),
    (["id", "{npy}", "--out", "{file}"], r"is a file|not a directory", None),
    (["id", "{npy}", "--out", "{file}/sub"], r"is a file|not a directory", None),
    (["id", "{npy}", "--out", "{ro}/o"], r"(?i)permission denied|not writable", "ro"),
    (["id", "{npy}", "--out", "{tmp}/new/o"], r"(?i)no space left on device", "enospc"),
    (["id", "{file}", "--out", "{tmp}/o"], r"is not a .npy file \(no NumPy header\)", None),
    (["id", "--out", "{tmp}/o"], r"give an array", None),
    (["id", "{run}", "--out", "{tmp}/o", "--data.image_size", "abc"], r"data.image_size", None),
]

SWEEP = [
    (["sweep", "{tmp}/missing.yaml", "--latent_dims", "2"], r"not found", None),
    (["sweep", str(CONFIG), "--latent_dims", "0"], r"--latent_dims must be a non-empty list of integers >= 1, got \[0\]", None),
    (["sweep", str(CONFIG), "--latent_dims", "a"], r"latent_dims: expected integers separated by commas", None),
    (["sweep", str(CONFIG), "--latent_dims", "[2,2]"], r"--latent_dims repeats 2", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--seeds", "0"], r"--seeds must be", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--jobs", "-1"], r"--jobs must be", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--max_epochs", "-1"], r"--max_epochs must be", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--recon_tolerance", "-1"], r"--recon_tolerance must be a number in \[0, 1\), got -1", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--id_tolerance", "-0.5"], r"--id_tolerance must be a number >= 0, got -0.5", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--id_repeats", "1"], r"--id_repeats must be", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--out", "{file}"], r"{file}", None),
    (["sweep", str(CONFIG), "--latent_dims", "2", "--out", "{tmp}/s", "--fit", "{{model.init_args.bogus: 1}}"],
     r"bogus", None),
]

REUSE = [
    (["probe", "{tmp}/cache", "--target-column", "1"], r"unrecognized arguments: --target-column 1 "
                                                       r"\(did you mean '--target_column'\?\)", None),
    (["features", "torchvision:resnet18", "--data.source", "digits", "--cache", "{tmp}/c", "--accelerator", "tpux"],
     r"--accelerator must be one of 'auto', 'gpu', .*got 'tpux'", None),
]

CASES = LOOK + PREVIEW + ID + SWEEP + REUSE


def _id(case) -> str:
    argv, _, how = case
    return "-".join([*(a.replace("{", "").replace("}", "").lstrip("-") for a in argv[:1] + argv[1:][-2:]),
                     *([how] if how else [])])


@pytest.mark.parametrize(("argv", "match", "how"), CASES, ids=[_id(c) for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(run, tmp_path, monkeypatch, capsys, argv, match, how):
    (tmp_path / "file").write_text("not a directory, not an array\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "traversal.png").mkdir()  # a directory where a picture goes
    (tmp_path / "ro").mkdir()
    (tmp_path / "pic.png").mkdir()
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((300, 3)).astype(np.float32))
    values = {"run": run, "npy": tmp_path / "x.npy", "file": tmp_path / "file", "adir": tmp_path / "adir",
              "ro": tmp_path / "ro", "tmp": tmp_path}
    argv = [a.format(**values) for a in argv]
    match = match.replace("{file}", re.escape(str(tmp_path / "file")))
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path, run)
    if how == "ro":
        read_only(tmp_path / "ro", monkeypatch)
    elif how == "enospc":
        full_disk(monkeypatch)
    try:
        code = main(argv)
    finally:
        (tmp_path / "ro").chmod(0o755)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"autoenc {argv[0]}: error: "), lines[0]
    assert re.search(match, lines[0]), lines[0]
    assert tree(tmp_path, run) == before  # nothing written, nothing left empty


def test_features_on_an_accelerator_this_machine_lacks(tmp_path, capsys):
    import torch

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["features", "torchvision:resnet18", "--data.source", "digits", "--cache", str(tmp_path / "c"),
                 "--accelerator", "gpu"]) == 2
    assert capsys.readouterr().err == ("autoenc features: error: --accelerator 'gpu': no such device on this machine; "
                                       "it has cpu (or use auto)\n")
    assert list(tmp_path.iterdir()) == []
