"""The feature cache: round trip, reuse, refusal of stale requests, damaged caches, atomicity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from autoenc.core.errors import CacheError, UserError
from autoenc.data import ImageDataModule
from autoenc.data.transforms import to_float
from autoenc.features import FrozenEncoder, extract_features, load_encoder, open_cache
from autoenc.features import extract as extract_module


def test_round_trip_features_equal_encoder_outputs(trained_model, trained_ckpt, digits_dm, tmp_path):
    cache = extract_features(trained_ckpt, digits_dm, tmp_path / "c", split="val", batch_size=100, progress=False)
    val = digits_dm.arrays("val")
    with torch.inference_mode():
        expected = trained_model.encode(to_float(val.images)).numpy()
    assert isinstance(cache.features, np.memmap) and cache.features.dtype == np.float32
    assert cache.features.shape == (len(val), 8)
    np.testing.assert_allclose(cache.features, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(cache.targets, val.targets.numpy())
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["format"] == 2 and meta["data"]["split"] == "val" and meta["data"]["n"] == len(val)
    assert meta["shapes"] == {"features": [len(val), 8], "targets": [len(val)]}
    assert meta["encoder"]["layer"] == "bottleneck" and len(meta["encoder"]["sha256"]) == 64
    assert meta["encoder_weights"] == "trained (autoenc)" and set(meta["checksums"]) == {
        "algorithm", "features.npy", "targets.npy"}
    # nothing but the cache is left next to it
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_export_and_checkpoint_give_the_same_cache(trained_ckpt, export_dir, digits_dm, tmp_path):
    a = extract_features(trained_ckpt, digits_dm, tmp_path / "a", progress=False)
    b = extract_features(export_dir, digits_dm, tmp_path / "b", progress=False)
    assert a.fingerprint == b.fingerprint
    np.testing.assert_array_equal(a.features, b.features)
    # the same fingerprint means the export may reuse the checkpoint's cache
    assert extract_features(export_dir, digits_dm, tmp_path / "a").meta["encoder_source"] == str(trained_ckpt)


def test_matching_cache_is_reused_without_recomputation(trained_ckpt, digits_dm, tmp_path, monkeypatch):
    first = extract_features(trained_ckpt, digits_dm, tmp_path / "c", progress=False)
    stamp = (tmp_path / "c" / "features.npy").stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("the encoder ran again")

    monkeypatch.setattr(extract_module, "encode_batches", fail)
    again = extract_features(trained_ckpt, digits_dm, tmp_path / "c", batch_size=7)
    assert again.meta == first.meta
    assert (tmp_path / "c" / "features.npy").stat().st_mtime_ns == stamp
    with pytest.raises(AssertionError, match="ran again"):  # overwrite rebuilds
        extract_features(trained_ckpt, digits_dm, tmp_path / "c", overwrite=True)
    assert open_cache(tmp_path / "c").meta == first.meta  # the failed rebuild left the old cache


def test_changed_weights_are_refused(trained_model, digits_dm, tmp_path):
    extract_features(trained_model, digits_dm, tmp_path / "c", progress=False)
    changed = load_encoder(trained_model)
    with torch.no_grad():
        next(changed.parameters()).add_(0.01)
    changed._sha256 = None
    with pytest.raises(CacheError, match=r"encoder\.sha256: \w{12} in the cache, \w{12} requested.*--overwrite"):
        extract_features(changed, digits_dm, tmp_path / "c")
    rebuilt = extract_features(changed, digits_dm, tmp_path / "c", overwrite=True, progress=False)
    assert rebuilt.meta["encoder"]["sha256"] == changed.sha256


def test_changed_data_is_refused(trained_model, digits_dm, tmp_path):
    extract_features(trained_model, digits_dm, tmp_path / "c", split="val", progress=False)
    with pytest.raises(CacheError, match=r"data\.split: val in the cache, train requested"):
        extract_features(trained_model, digits_dm, tmp_path / "c", split="train")
    other = ImageDataModule("digits", val_fraction=0.3, seed=1, num_workers=0)
    with pytest.raises(CacheError, match=r"data\.datamodule\.seed: 0 in the cache, 1 requested.*items_sha256"):
        extract_features(trained_model, other, tmp_path / "c", split="val")


def test_changed_transform_is_refused(digits_dm, tmp_path):
    small = extract_features("torchvision:resnet18", digits_dm, tmp_path / "c", progress=False)
    assert small.features.shape == (len(digits_dm.arrays("val")), 512)
    resized = load_encoder("torchvision:resnet18", image_size=16)
    with pytest.raises(CacheError, match=r"data\.transform\.preprocess\.resize: null in the cache, 16 requested"):
        extract_features(resized, digits_dm, tmp_path / "c")
    with pytest.raises(CacheError, match=r"data\.transform\.pool: avg in the cache, flatten requested"):
        extract_features(load_encoder("torchvision:resnet18", pool="flatten"), digits_dm, tmp_path / "c")


def test_shape_mismatch_names_both_shapes_and_writes_nothing(trained_model, tmp_path):
    dm = ImageDataModule("digits", image_size=16, num_workers=0)
    with pytest.raises(UserError, match=r"takes images \(1, 8, 8\).*data has \(1, 16, 16\).*--data.image_size 8"):
        extract_features(trained_model, dm, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def test_cache_path_that_is_a_file(trained_model, digits_dm, tmp_path):
    (tmp_path / "c").write_text("not a cache")
    with pytest.raises(CacheError, match="is a file, not a directory"):
        extract_features(trained_model, digits_dm, tmp_path / "c")
    with pytest.raises(CacheError, match="is a file, not a directory"):
        open_cache(tmp_path / "c")


def test_non_cache_directory_is_never_overwritten(trained_model, digits_dm, tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "thesis.tex").write_text("precious")
    with pytest.raises(CacheError, match="not a feature cache; choose another"):
        extract_features(trained_model, digits_dm, tmp_path / "c", overwrite=True)
    assert (tmp_path / "c" / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize("damage", ["features", "meta"])
def test_truncated_cache_is_refused(trained_model, digits_dm, tmp_path, damage):
    extract_features(trained_model, digits_dm, tmp_path / "c", progress=False)
    file = tmp_path / "c" / ("features.npy" if damage == "features" else "meta.json")
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])
    match = r"features\.npy' is damaged" if damage == "features" else r"meta\.json' is damaged"
    with pytest.raises(CacheError, match=match + r".*--overwrite"):
        open_cache(tmp_path / "c")
    with pytest.raises(CacheError, match=match):
        extract_features(trained_model, digits_dm, tmp_path / "c")
    fixed = extract_features(trained_model, digits_dm, tmp_path / "c", overwrite=True, progress=False)
    assert fixed.features.shape[0] == fixed.meta["data"]["n"]


def test_missing_cache_says_how_to_build_one(tmp_path):
    with pytest.raises(CacheError, match="no feature cache at .*autoenc features"):
        open_cache(tmp_path / "nope")


KILLED_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path

    import torch
    from torch import nn

    from autoenc.data import ImageDataModule
    from autoenc.features import FrozenEncoder, extract_features

    class SlowNet(nn.Module):
        '''Call 1 is the dry run, call 2 the first batch; call 3 marks it done and stalls.'''
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.calls == 3:
                Path(sys.argv[2]).touch()
                time.sleep(60)
            return x.flatten(1) * self.w

    encoder = FrozenEncoder(SlowNet(), source="slow", layer="x", input_shape=(1, 8, 8))
    extract_features(encoder, ImageDataModule("digits", num_workers=0), sys.argv[1], batch_size=16, progress=False)
""")


def test_killed_extraction_leaves_no_cache(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(KILLED_SCRIPT)
    marker = tmp_path / "first-batch-done"
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, str(script), str(out / "cache"), str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        # call 1 is the dry run (output size), call 2 the first batch, call 3 the second
        while not marker.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the extraction never reached its first batch: {proc.stdout.read().decode()[-2000:]}")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert not (out / "cache").exists()
    leftovers = list(out.iterdir())
    # a killed process cannot clean up: only its hidden temporary directory (and its lock file) stay
    assert all(p.name.startswith(".cache.") and p.name.endswith((".tmp", ".tmp.lock")) for p in leftovers), leftovers
    assert all(not (p / "meta.json").exists() for p in leftovers if p.is_dir())
    with pytest.raises(CacheError, match="no feature cache"):
        open_cache(out / "cache")
    # the next run removes what the killed one left (its lock died with it) and builds the cache
    encoder = FrozenEncoder(torch.nn.Flatten(), source="flat", layer="x", input_shape=(1, 8, 8))
    extract_features(encoder, ImageDataModule("digits", num_workers=0), out / "cache", progress=False)
    assert [p.name for p in out.iterdir()] == ["cache"]
