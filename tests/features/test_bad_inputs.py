"""`autoenc features` / `autoenc probe` on bad input: exit 2, one stderr line, no traceback, nothing written."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from autoenc.cli.main import main


@pytest.fixture(scope="module")
def cache_dir(trained_ckpt, tmp_path_factory):
    from autoenc.features import extract_features

    path = tmp_path_factory.mktemp("bad-inputs") / "cache"
    extract_features(trained_ckpt, _digits(), path, split="val", progress=False)
    return path


def _digits():
    from autoenc.data import ImageDataModule

    return ImageDataModule("digits", val_fraction=0.3, seed=0, num_workers=0)


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _refused(capsys, tmp_path, argv, match):
    before = _tree(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and match in err, err
    assert _tree(tmp_path) == before  # nothing written, nothing removed


def _copy(cache_dir, tmp_path):
    shutil.copytree(cache_dir, tmp_path / "c")
    return tmp_path / "c"


def _edit_meta(path, edit):
    meta = json.loads((path / "meta.json").read_text())
    edit(meta)
    (path / "meta.json").write_text(json.dumps(meta))


def test_probe_missing_cache(capsys, tmp_path):
    _refused(capsys, tmp_path, ["probe", str(tmp_path / "nope")], "no feature cache at")


def test_probe_cache_path_is_a_file(capsys, tmp_path):
    (tmp_path / "c").write_text("x")
    _refused(capsys, tmp_path, ["probe", str(tmp_path / "c")], "is a file, not a directory")


def test_probe_directory_that_is_not_a_cache(capsys, tmp_path):
    (tmp_path / "c").mkdir()
    _refused(capsys, tmp_path, ["probe", str(tmp_path / "c")], "is not a feature cache (no meta.json)")


def test_probe_edited_features(capsys, cache_dir, tmp_path):
    c = _copy(cache_dir, tmp_path)
    features = np.load(c / "features.npy")
    np.save(c / "features.npy", features * 1.001)
    _refused(capsys, tmp_path, ["probe", str(c)], "features.npy' does not match the sha256 meta.json recorded")


def test_probe_truncated_features(capsys, cache_dir, tmp_path):
    c = _copy(cache_dir, tmp_path)
    data = (c / "features.npy").read_bytes()
    (c / "features.npy").write_bytes(data[: len(data) - 100])
    _refused(capsys, tmp_path, ["probe", str(c)], "features.npy' is damaged")


def test_probe_meta_with_changed_counts(capsys, cache_dir, tmp_path):
    c = _copy(cache_dir, tmp_path)
    _edit_meta(c, lambda meta: meta["data"].update(n=meta["data"]["n"] + 1))
    _refused(capsys, tmp_path, ["probe", str(c)], "but features.npy has")


def test_probe_meta_with_changed_shapes(capsys, cache_dir, tmp_path):
    c = _copy(cache_dir, tmp_path)
    _edit_meta(c, lambda meta: meta["shapes"]["features"].__setitem__(0, 10))
    _refused(capsys, tmp_path, ["probe", str(c)], "but meta.json says (10, 8)")


@pytest.mark.parametrize("argv, match", [
    (["--kind", "knn", "--k", "0"], "--k must be an integer >= 1 or null, got 0"),
    (["--kind", "knn", "--k", "100000"], "(the number of training items), got 100000"),
    (["--C", "-1"], "--C must be a number > 0 or null, got -1.0"),
    (["--k", "3"], "k does not apply to the linear probe"),
    (["--test_fraction", "1.5"], "--test_fraction must be a number in (0, 1), got 1.5"),
    (["--k", "three"], "k: expected int or None; got three"),
    (["--target_column", "4"], "target_column must be None for class labels"),
])
def test_probe_bad_options(capsys, cache_dir, tmp_path, argv, match):
    _refused(capsys, tmp_path, ["probe", str(cache_dir), *argv], match)


def test_probe_json_under_a_file(capsys, cache_dir, tmp_path):
    (tmp_path / "f").write_text("x")
    _refused(capsys, tmp_path, ["probe", str(cache_dir), "--json", str(tmp_path / "f" / "r.json")],
             "cannot create directory")


def test_features_unknown_encoder(capsys, tmp_path):
    _refused(capsys, tmp_path, ["features", "torchvision:resnet1000", "--data.source", "digits", "--cache",
                                str(tmp_path / "c")], "unknown torchvision model 'resnet1000'")
    _refused(capsys, tmp_path, ["features", str(tmp_path / "nope.ckpt"), "--cache", str(tmp_path / "c")],
             "is neither an existing checkpoint")


def test_features_cache_path_is_a_file(capsys, trained_ckpt, tmp_path):
    (tmp_path / "c").write_text("x")
    _refused(capsys, tmp_path, ["features", str(trained_ckpt), "--cache", str(tmp_path / "c")],
             "is a file, not a directory")


def test_features_cache_under_a_file(capsys, trained_ckpt, tmp_path):
    (tmp_path / "f").write_text("x")
    _refused(capsys, tmp_path, ["features", str(trained_ckpt), "--cache", str(tmp_path / "f" / "c")],
             "cannot create directory")


@pytest.mark.parametrize("cache, match", [
    ("/sys/autoenc-test/c", "cannot create directory '/sys/autoenc-test'"),  # even root may not
    ("/proc/self/autoenc-test-cache", "cannot create a directory in '/proc/self'"),  # exists, refuses entries
])
def test_features_unwritable_parent(capsys, trained_ckpt, tmp_path, cache, match):
    _refused(capsys, tmp_path, ["features", str(trained_ckpt), "--cache", cache], match)


def test_features_edited_cache_is_not_reused(capsys, trained_ckpt, cache_dir, tmp_path):
    c = _copy(cache_dir, tmp_path)
    np.save(c / "features.npy", np.load(c / "features.npy")[::-1].copy())
    _refused(capsys, tmp_path, ["features", str(trained_ckpt), "--cache", str(c)], "does not match the sha256")


@pytest.mark.parametrize("argv, match", [
    (["--batch_size", "0"], "batch_size must be an integer >= 1, got 0"),
    (["--devices", "0"], "devices must be an integer >= 1, got 0"),
    (["--seed", "3"], "seed only applies to torchvision encoders"),
    (["--split", "test"], "split: expected one of 'train', 'val', 'all'; got test"),
])
def test_features_bad_options(capsys, trained_ckpt, tmp_path, argv, match):
    _refused(capsys, tmp_path, ["features", str(trained_ckpt), "--cache", str(tmp_path / "c"), *argv], match)


@pytest.mark.parametrize("argv, match", [
    (["--resize", "0"], "--resize must be an integer >= 1 or null, got 0"),
    (["--seed", "-2"], "--seed must be an integer in [0, 4294967296) or null, got -2"),
    (["--weights", "IMAGENET9K"], "torchvision resnet18 has no weights 'IMAGENET9K'"),
])
def test_features_bad_torchvision_options(capsys, tmp_path, argv, match):
    _refused(capsys, tmp_path, ["features", "torchvision:resnet18", "--data.source", "digits", "--cache",
                                str(tmp_path / "c"), *argv], match)


def test_features_weights_offline(capsys, tmp_path, tmp_path_factory, monkeypatch):
    import urllib.error

    import torch

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch-home")))  # outside tmp_path
    _refused(capsys, tmp_path, ["features", "torchvision:resnet18", "--weights", "DEFAULT", "--data.source", "digits",
                                "--cache", str(tmp_path / "c")],
             "cannot download torchvision resnet18 weights ResNet18_Weights.IMAGENET1K_V1")
