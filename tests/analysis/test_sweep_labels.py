"""Label efficiency through the sweep (`autoenc sweep ... --labels_per_class 1,10,all`): a curve
per bottleneck size in sweep.json, a table, a plot; one-line errors before any training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from _tiny_configs import tiny_config

from autoenc.cli.main import main
from autoenc.core.errors import UserError
from autoenc.data.module import ImageDataModule
from autoenc.models import Autoencoder
from autoenc.workflows.sweep import EvalSettings, evaluate_model, read_sweep

CONFIG = tiny_config("tiny_ae", "Autoencoder", 6)
COUNTS = ["1", "10", "all"]


def _config(folder: Path, config: dict) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _sweep(config: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(config), "--latent_dims", "2,16", "--out", str(out), "--id_repeats", "0", *extra])


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _config(tmp_path_factory.mktemp("cfg"), CONFIG)


@pytest.fixture(scope="module")
def sweep_dir(config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "s"
    assert _sweep(config, out, "--labels_per_class", ",".join(COUNTS), "--draws", "3") == 0
    return out


def test_a_curve_per_size_in_the_json(sweep_dir: Path) -> None:
    data = json.loads((sweep_dir / "sweep.json").read_text())
    curves = data["label_efficiency"]
    assert [c["latent_dim"] for c in curves] == [2, 16]
    for curve in curves:
        points = curve["points"]
        assert [p["labels_per_class"] for p in points] == [1, 10, "all"]
        assert [len(p["accuracies"]) for p in points] == [3, 3, 1]  # 'all' is drawn once
        assert [p["n_train"] for p in points[:2]] == [10, 100] and curve["n_test"] == 270
        for p in points:
            assert all(0.0 <= a <= 1.0 for a in p["accuracies"])
            assert p["ci_low"] <= p["mean"] <= p["ci_high"]
            assert p["mean"] == pytest.approx(np.mean(p["accuracies"]))
    # more labels, better probe: on average over sizes, all labels beat one per class
    by_count = lambda i: np.mean([c["points"][i]["mean"] for c in curves])  # noqa: E731
    assert by_count(2) > by_count(0) + 0.05
    assert read_sweep(sweep_dir).label_curves[16].points[2].mean == curves[1]["points"][2]["mean"]


def test_table_and_plot_are_written(sweep_dir: Path) -> None:
    text = (sweep_dir / "recommendation.txt").read_text()
    table = text[text.index("linear probe accuracy against labelled training items"):].splitlines()
    assert table[1].split() == ["size", *COUNTS]
    assert [row.split()[0] for row in table[2:4]] == ["2", "16"]
    assert (sweep_dir / "sweep_labels.png").read_bytes()[:4] == b"\x89PNG"
    assert (sweep_dir / "sweep_labels.png").stat().st_size > 10_000


def test_rerun_prints_the_table_from_cached_evaluations(sweep_dir: Path, config: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert _sweep(config, sweep_dir, "--labels_per_class", ",".join(COUNTS), "--draws", "3") == 0
    out = capsys.readouterr().out
    assert "evaluating" not in out and "2 of 2 runs were already finished" in out
    assert "linear probe accuracy against labelled training items" in out and "sweep_labels.png" in out


def test_too_many_labels_fails_before_training(config: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _sweep(config, tmp_path / "s", "--labels_per_class", "1,100000") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "labels_per_class 100000 is larger than the smallest class" in err
    assert not (tmp_path / "s").exists()
    assert _sweep(config, tmp_path / "s", "--labels_per_class", "1,ten") == 2
    assert "labels_per_class must be integers >= 1 or 'all'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_data_without_labels_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    for i in range(12):  # images directly in the folder: no classes
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / "images" / f"{i}.png")
    data = {"source": {"class_path": "ImageFolder", "init_args": {"root": str(tmp_path / "images")}},
            "image_size": 8, "channels": 1, "batch_size": 4, "val_fraction": 0.25}
    config = _config(tmp_path, {**CONFIG, "data": data})
    assert _sweep(config, tmp_path / "s", "--labels_per_class", "1,all") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "labels_per_class needs class labels" in err
    assert not (tmp_path / "s").exists()


def test_every_prefix_size_gets_a_curve() -> None:
    """An ordered model is measured at each prefix: each gets its curve, on the same draws."""
    dm = ImageDataModule("digits", val_fraction=0.15)
    val, train = dm.arrays("val"), dm.arrays("train")
    model = Autoencoder((1, 8, 8), latent_dim=6, encoder="mlp", net_options={"hidden": [16]})
    settings = EvalSettings(id_repeats=0, probe=False, labels_per_class="2, all", draws=2)
    metrics = evaluate_model(model, val.images, [1, 6], val_targets=val.targets, train_images=train.images,
                             train_targets=train.targets, settings=settings)
    assert [m.probe_accuracy for m in metrics] == [None, None]
    one, six = (m.label_efficiency for m in metrics)
    assert [p.labels_per_class for p in six.points] == [2, "all"] and six.n_test == len(val.images)
    assert six.points[1].mean > one.points[1].mean  # six random units hold more of the digit than one
    with pytest.raises(UserError, match="labels_per_class needs class labels"):
        evaluate_model(model, val.images, [6], val_targets=val.targets, train_images=train.images, settings=settings)


def test_settings_parse_counts_once() -> None:
    assert EvalSettings(labels_per_class="1, 10,all").labels_per_class == (1, 10, "all")
    assert EvalSettings(labels_per_class=[5, "all"]) == EvalSettings(labels_per_class="5,all")
    with pytest.raises(UserError, match="labels_per_class is empty|labels_per_class must be"):
        EvalSettings(labels_per_class="")
    with pytest.raises(UserError, match="draws must be"):
        EvalSettings(labels_per_class="1", draws=0)


def test_python_sweep_has_the_cli_options_and_resumes_the_cli_sweep(config: Path, sweep_dir: Path) -> None:
    import autoenc

    result = autoenc.sweep(config, [2, 16], out=sweep_dir, id_repeats=0, labels_per_class="1,10,all", draws=3,
                           log=lambda line: None)
    assert result.out == sweep_dir and {t.status for t in result.trained} == {"skipped"}
    written = json.loads((sweep_dir / "sweep.json").read_text())
    assert result.to_dict()["label_efficiency"] == written["label_efficiency"]
    assert result.recommendation.latent_dim == written["recommendation"]["latent_dim"]


@pytest.mark.parametrize(("options", "message"), [
    ({"seeds": 0}, r"seeds must be an integer >= 1, got 0"),
    ({"draws": 1.5}, r"draws must be an integer >= 1"),
    ({"size_option": "width"}, r"size_option must be one of"),
])
def test_python_sweep_refuses_bad_options_before_anything_is_written(config: Path, tmp_path: Path, options: dict,
                                                                     message: str) -> None:
    import autoenc

    with pytest.raises(UserError, match=message):
        autoenc.sweep(config, [2, 16], out=tmp_path / "s", **options)
    assert not (tmp_path / "s").exists()


def test_a_rerun_without_labels_per_class_leaves_no_label_figure(config: Path, sweep_dir: Path) -> None:
    """Last in this file: it rewrites the shared sweep directory without the label curves."""
    import autoenc

    assert (sweep_dir / "sweep_labels.png").exists()
    result = autoenc.sweep(config, [2, 16], out=sweep_dir, id_repeats=0, log=lambda line: None)
    assert not result.label_curves and not (sweep_dir / "sweep_labels.png").exists()
    assert not json.loads((sweep_dir / "sweep.json").read_text()).get("label_efficiency")
