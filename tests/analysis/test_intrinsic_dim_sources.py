"""`autoenc id` on a run directory (images and codes side by side), on data alone, on a cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autoenc.cli.main import main


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    code = main(["fit", "-c", "configs/digits_vae.yaml", "--runs_dir", str(runs), "--trainer.max_epochs", "2",
                 "--trainer.enable_progress_bar", "false", "--model.init_args.latent_dim", "4"])
    assert code == 0
    return runs / "digits_vae" / "version_0"


def test_run_dir_measures_images_and_codes(vae_run, tmp_path, capsys):
    out = tmp_path / "id"
    assert main(["id", str(vae_run), "--out", str(out), "--estimators", "[twonn,pca]", "--repeats", "2"]) == 0
    images = json.loads((out / "intrinsic_dim_images.json").read_text())
    codes = json.loads((out / "intrinsic_dim_codes.json").read_text())
    assert images["shape"][1] == 64 and codes["shape"][1] == 4
    assert codes["latent_dim"] == 4 and 0 <= codes["active_units"] <= 4
    pca_codes = next(r for r in codes["results"] if r["estimator"] == "pca")["value"]
    assert pca_codes <= 4  # a 4-d code cannot have more linear dimensions than 4
    assert (out / "intrinsic_dim_codes.png").stat().st_size > 0
    assert "active_units" in capsys.readouterr().out


def test_data_alone_and_cache(tmp_path):
    out = tmp_path / "id"
    assert main(["id", "--data.source", "digits", "--out", str(out), "--estimators", "[pca]", "--repeats", "0"]) == 0
    result = json.loads((out / "intrinsic_dim.json").read_text())
    assert result["measured"] == "images" and result["shape"] == [180, 64]  # the val split (10%)
    cache = tmp_path / "cache"
    cache.mkdir()
    np.save(cache / "features.npy", np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32))
    (cache / "meta.json").write_text("{}")
    # a directory that merely looks like a cache is checked, not trusted
    assert main(["id", str(cache), "--out", str(tmp_path / "id2")]) == 2
    assert not (tmp_path / "id2").exists()
