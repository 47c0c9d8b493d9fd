"""A cache's arrays are checksummed and verified; stale temporary directories are removed safely."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

from autoenc.core.errors import CacheError
from autoenc.data import ImageArrays
from autoenc.features import FrozenEncoder, extract_features, open_cache, probe
from autoenc.features import extract as extract_module
from autoenc.features.staging import locked_temp_dir, remove_stale_temps


def _encoder() -> FrozenEncoder:
    torch.manual_seed(0)
    return FrozenEncoder(nn.Sequential(nn.Flatten(), nn.Linear(64, 4)), source="linear", layer="x",
                         input_shape=(1, 8, 8))


def _data(n: int = 60) -> ImageArrays:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 8, 8), dtype=torch.uint8, generator=g)
    return ImageArrays(images, torch.arange(n) % 3, None, {"source": "test"})


@pytest.fixture
def built(tmp_path):
    path = tmp_path / "c"
    extract_features(_encoder(), _data(), path, progress=False)
    return path


def test_meta_records_a_sha256_of_each_array(built):
    import hashlib

    meta = json.loads((built / "meta.json").read_text())
    assert meta["checksums"]["algorithm"] == "sha256"
    for name in ("features.npy", "targets.npy"):
        assert meta["checksums"][name] == hashlib.sha256((built / name).read_bytes()).hexdigest()


def _flip_last_feature(path):
    features = np.load(path / "features.npy")
    features[-1, -1] += 1.0
    np.save(path / "features.npy", features)  # same size, valid .npy, other values


def test_an_edited_features_file_is_refused_on_reuse_and_in_probe(built, monkeypatch):
    _flip_last_feature(built)
    pattern = r"features\.npy' does not match the sha256 meta\.json recorded \(\w{12} recorded, \w{12} found\).*--overwrite"
    with pytest.raises(CacheError, match=pattern):
        open_cache(built)
    with pytest.raises(CacheError, match=pattern):
        probe(built)
    monkeypatch.setattr(extract_module, "encode_batches", lambda *a, **k: pytest.fail("must not rebuild"))
    with pytest.raises(CacheError, match=pattern):
        extract_features(_encoder(), _data(), built)


def test_an_edited_targets_file_is_refused(built):
    targets = np.load(built / "targets.npy")
    np.save(built / "targets.npy", targets[::-1].copy())
    with pytest.raises(CacheError, match=r"targets\.npy' does not match the sha256"):
        open_cache(built)


def test_a_shortened_features_file_with_matching_shapes_is_refused(built):
    """Rows dropped and meta.json's shapes edited to agree: the checksum still catches it."""
    np.save(built / "features.npy", np.load(built / "features.npy")[:-5])
    np.save(built / "targets.npy", np.load(built / "targets.npy")[:-5])
    meta = json.loads((built / "meta.json").read_text())
    meta["shapes"] = {"features": [55, 4], "targets": [55]}
    meta["data"]["n"] = 55
    (built / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CacheError, match=r"features\.npy' does not match the sha256"):
        open_cache(built)


def test_a_meta_json_whose_counts_were_changed_is_refused(built):
    meta = json.loads((built / "meta.json").read_text())
    meta["data"]["n"] = 50
    (built / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CacheError, match=r"meta\.json' says data\.n = 50 but features\.npy has 60 rows.*--overwrite"):
        open_cache(built)


def test_a_cache_without_checksums_is_refused(built):
    meta = json.loads((built / "meta.json").read_text())
    del meta["checksums"]
    (built / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CacheError, match=r"records no sha256 of features\.npy.*--overwrite"):
        open_cache(built)


def test_verification_can_be_skipped_for_a_cache_just_written(built):
    _flip_last_feature(built)
    assert open_cache(built, verify=False).features.shape == (60, 4)


# -- stale temporary directories ------------------------------------------------------------------
# Another writer, in its own process: it holds the lock file of its temporary directory as
# locked_temp_dir does (a plain interpreter: importing autoenc would cost seconds).
HOLDER = textwrap.dedent("""
    import sys, time
    from filelock import FileLock
    lock = FileLock(sys.argv[1] + ".lock")
    lock.acquire()
    print("locked", flush=True)
    time.sleep(120)
""")


def test_stale_temps_are_removed_and_live_ones_left_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".c.k1ll3d_0.tmp"  # left by a killed writer: its lock died with it
    stale.mkdir()
    (stale / "features.npy").write_bytes(b"half")
    # another cache's temporaries (".c.x" is cache "c.x", not "c"), other names, and a file
    unrelated = [out / ".d.abcdefgh.tmp", out / ".c.x.abcdefgh.tmp", out / "c.abcdefgh.tmp",
                 out / ".c.abcdefgh.tmpx", out / ".c.abcdefgh.tmp.txt"]
    for p in unrelated[:4]:
        p.mkdir()
    unrelated[4].write_text("a file, not a directory of ours")
    (out / ".c.fileabcd.tmp").write_text("a file with our name: never removed")
    unrelated.append(out / ".c.fileabcd.tmp")
    live = out / ".c.w0rk1ng_.tmp"
    live.mkdir()
    (live / "partial.npy").write_bytes(b"x")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        removed = remove_stale_temps(out / "c")
        assert removed == [stale]
        assert not stale.exists() and live.is_dir() and (live / "partial.npy").exists()
        assert all(p.exists() for p in unrelated)
        # a build next to the live writer leaves its directory alone too
        extract_features(_encoder(), _data(), out / "c", progress=False)
        assert live.is_dir() and open_cache(out / "c").features.shape == (60, 4)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert remove_stale_temps(out / "c") == [live]  # the holder is gone: now it is stale
    assert sorted(p.name for p in out.iterdir()) == sorted(["c", *(p.name for p in unrelated)])


def test_the_next_build_removes_a_stale_temp(tmp_path):
    stale = tmp_path / ".c.abc12345.tmp"
    stale.mkdir()
    extract_features(_encoder(), _data(), tmp_path / "c", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_a_lock_held_in_this_process_protects_its_directory(tmp_path):
    with locked_temp_dir(tmp_path / "c") as tmp:
        assert remove_stale_temps(tmp_path / "c") == [] and tmp.is_dir()
    assert not tmp.exists()  # an unfinished temp is removed when its block ends
