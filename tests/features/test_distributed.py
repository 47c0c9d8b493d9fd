"""Extraction through Trainer.predict: shards merged in dataset order equal the plain loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from autoenc.core.errors import CacheError
from autoenc.features import extract_features, open_cache
from autoenc.features.distributed import build_with_trainer, merge_shards
from autoenc.features.extract import build_request

DDP_SCRIPT = textwrap.dedent("""
    import sys
    import warnings

    from autoenc.data import ImageDataModule
    from autoenc.features import extract_features

    if __name__ == "__main__":  # Lightning's DDP launcher runs this file again for rank 1
        warnings.simplefilter("ignore")
        dm = ImageDataModule("digits", batch_size=128, val_fraction=0.3, seed=0, num_workers=0)
        extract_features(sys.argv[1], dm, sys.argv[2], split="val", batch_size=64, devices=2,
                         accelerator="cpu", progress=False)
""")


def test_merge_drops_padding_duplicates_and_orders_by_index(tmp_path):
    feats = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    # rank 0 got 0, 2, 4, 6, 8; rank 1 got 1, 3, 5, 7, 9 and a padded repeat of 0
    np.savez(tmp_path / "shard-00000.npz", indices=np.arange(0, 10, 2), features=feats[0::2])
    np.savez(tmp_path / "shard-00001.npz", indices=np.r_[np.arange(1, 10, 2), 0], features=np.r_[feats[1::2], feats[:1]])
    np.testing.assert_array_equal(merge_shards(tmp_path, 10), feats)
    with pytest.raises(CacheError, match="2 of 12 items have no features"):
        merge_shards(tmp_path, 12)


def test_trainer_predict_on_one_device_equals_the_plain_loop(trained_ckpt, digits_dm, tmp_path):
    plain = extract_features(trained_ckpt, digits_dm, tmp_path / "plain", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_with_trainer(build_request(trained_ckpt, digits_dm, "val"), tmp_path / "predict", batch_size=50,
                           devices=1)
    predicted = open_cache(tmp_path / "predict")
    assert predicted.fingerprint == plain.fingerprint
    np.testing.assert_array_equal(predicted.features, plain.features)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "predict"]  # shard directory removed


def test_ddp_on_two_cpu_processes_writes_the_single_process_cache(trained_ckpt, digits_dm, tmp_path):
    single = extract_features(trained_ckpt, digits_dm, tmp_path / "single", split="val", progress=False)
    script = tmp_path / "extract_ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, str(script), str(trained_ckpt), str(tmp_path / "ddp")],
                            capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = open_cache(tmp_path / "ddp")
    assert ddp.meta["build"]["devices"] == 2 and ddp.meta["build"]["strategy"] == "DDPStrategy"
    assert ddp.fingerprint == single.fingerprint
    np.testing.assert_array_equal(ddp.features, single.features)
    np.testing.assert_array_equal(ddp.targets, single.targets)
    meta = json.loads((tmp_path / "ddp" / "meta.json").read_text())
    assert meta["shapes"] == single.meta["shapes"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no shards or temporaries left
