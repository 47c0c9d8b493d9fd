"""No silent garbage and no internal errors from the Python API: images outside [0, 1], wrong
types, empty batches, bad counts, edited exports and duplicate YAML keys are refused in one
line that names the argument."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import autoenc
from autoenc.core.errors import CheckpointError, UserError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> autoenc.Run:
    runs = tmp_path_factory.mktemp("runs")
    return autoenc.fit(REPO / "configs" / "digits_vae.yaml", runs_dir=str(runs), name="v",
                       trainer={"max_epochs": 1, "enable_progress_bar": False},
                       **{"data.subset": 256, "model.init_args.net": {"class_path": "MLPNet", "init_args": {"hidden": [16]}}})


def test_encode_takes_unit_floats_or_uint8_and_refuses_0_to_255_floats(run: autoenc.Run) -> None:
    images = run.images(count=8)
    as_uint8 = (images * 255).round().to(torch.uint8)
    assert torch.allclose(run.encode(as_uint8), run.encode(as_uint8.float() / 255))
    with pytest.raises(UserError, match=r"images must hold float values in \[0, 1\] or uint8.*divide by 255"):
        run.encode(images * 255)
    with pytest.raises(UserError, match="NaN"):
        run.encode(torch.full_like(images, float("nan")))


def test_transformer_refuses_0_to_255_floats_with_the_same_message(run: autoenc.Run) -> None:
    X = run.images(count=32).flatten(1).numpy()
    features = autoenc.AutoencoderFeatures(run.path)
    codes = features.fit_transform(X)
    assert np.allclose(features.transform((X * 255).round().astype(np.uint8)), codes, atol=1e-2)
    with pytest.raises(UserError, match=r"X must hold float values in \[0, 1\]"):
        features.transform(X * 255)


@pytest.mark.parametrize(("call", "error", "says"), [
    (lambda r: r.images(count=-1), UserError, "count must be an integer >= 0"),
    (lambda r: r.encode("string"), TypeError, "images must be a"),
    (lambda r: r.encode(torch.zeros(0, 1, 8, 8)), UserError, "images is an empty batch"),
    (lambda r: r.encode(torch.zeros(2, 1, 9, 9)), UserError, r"data images are \(1, 9, 9\)"),
    (lambda r: autoenc.reconstruct(r, count="8"), UserError, "count must be an integer >= 1, got '8'"),
    (lambda r: autoenc.reconstruct(5), TypeError, "run must be a Run"),
    (lambda r: autoenc.export_encoder(None, "x"), TypeError, "model must be an autoenc model"),
    (lambda r: autoenc.fit(REPO / "configs" / "digits_vae.yaml", trainer=5), UserError, "trainer"),
])
def test_misuse_names_the_argument(run: autoenc.Run, call, error: type, says: str) -> None:
    with pytest.raises(error, match=says):
        call(run)


def test_export_into_an_unwritable_place_names_the_directory(run: autoenc.Run, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(UserError, match=f"{tmp_path / 'file'}"):
        autoenc.export_encoder(run.model, tmp_path / "file" / "export")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(("key", "value"), [("latent_dim", 4), ("out_features", 40), ("takes", "all outputs")])
def test_an_edited_encoder_json_is_refused(run: autoenc.Run, tmp_path: Path, key: str, value: object) -> None:
    from autoenc.features import load_encoder

    out = autoenc.export_encoder(run.model, tmp_path / "export")
    load_encoder(str(out))  # as exported: fine
    meta = json.loads((out / "encoder.json").read_text())
    meta[key] = value
    (out / "encoder.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="encoder.json"):
        load_encoder(str(out))
    del meta["metadata_sha256"]  # an export written before the metadata hash: checked against the weights
    (out / "encoder.json").write_text(json.dumps(meta))
    if key != "latent_dim":
        with pytest.raises(CheckpointError, match="encoder.json"):
            load_encoder(str(out))


def test_estimate_id_takes_one_estimator_name() -> None:
    points = np.random.default_rng(0).normal(size=(300, 3))
    results = autoenc.estimate_id(points, "twonn", repeats=0)
    assert [r.estimator for r in results] == ["twonn"]


@pytest.mark.parametrize("estimator", ["twonn", "mle"])
def test_id_of_one_hot_booleans_is_refused_not_nan(estimator: str) -> None:
    with pytest.raises(UserError, match="too discrete"):
        autoenc.estimate_id(np.eye(200, dtype=bool), [estimator], repeats=0)


def test_duplicate_yaml_keys_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from autoenc.cli.main import main

    text = (REPO / "configs" / "digits_ae.yaml").read_text()
    config = tmp_path / "dup.yaml"
    config.write_text(text.replace("name:", "seed_everything: 1\nseed_everything: 2\nname:", 1))
    with pytest.raises(UserError, match="'seed_everything' is given twice"):
        autoenc.fit(config)
    assert main(["fit", "-c", str(config), "--runs_dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "given twice" in err[0], err
    assert not (tmp_path / "runs").exists()
