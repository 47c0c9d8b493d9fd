"""Probes on cached features: accuracy against chance, two-cache mode, unusable targets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data import ImageArrays
from autoenc.features import FrozenEncoder, extract_features, probe


@pytest.fixture(scope="module")
def digits_caches(trained_ckpt, digits_dm, tmp_path_factory):
    root = tmp_path_factory.mktemp("caches")
    train = extract_features(trained_ckpt, digits_dm, root / "train", split="train", progress=False)
    val = extract_features(trained_ckpt, digits_dm, root / "val", split="val", progress=False)
    return train, val


def test_linear_probe_on_trained_codes_beats_chance_by_far(digits_caches):
    train, val = digits_caches
    result = probe(train, "linear", test_cache=val)
    assert result.n_train == len(train) and result.n_test == len(val) and result.n_classes == 10
    assert result.chance < 0.15
    assert result.accuracy > result.chance + 0.6, result.summary()
    assert set(result.report) == {str(i) for i in range(10)}
    assert sum(row["support"] for row in result.report.values()) == len(val)


def test_knn_probe_on_a_seeded_split_of_one_cache(digits_caches):
    _, val = digits_caches
    first = probe(val.path, "knn", k=3, seed=1, test_fraction=0.3)
    again = probe(val.path, "knn", k=3, seed=1, test_fraction=0.3)
    assert first == again
    assert first.n_test == round(0.3 * len(val)) and first.n_train + first.n_test == len(val)
    assert first.accuracy > first.chance + 0.6, first.summary()


class _Noise(torch.nn.Module):
    """Features that carry no information about the image."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn((len(x), 4))


def test_a_probe_of_random_features_sits_at_chance(tmp_path, digits_dm):
    torch.manual_seed(0)
    enc = FrozenEncoder(_Noise(), source="noise", layer="x", input_shape=(1, 8, 8))
    cache = extract_features(enc, digits_dm, tmp_path / "noise", split="all", progress=False)
    result = probe(cache, "linear")
    assert abs(result.accuracy - result.chance) < 0.1, result.summary()


def _arrays_cache(tmp_path, targets):
    images = torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8)
    return extract_features("torchvision:resnet18", ImageArrays(images, targets, None, {"source": "test"}),
                            tmp_path / "c", progress=False)


def test_probing_a_cache_without_targets_is_refused(tmp_path):
    cache = _arrays_cache(tmp_path, None)
    assert not (tmp_path / "c" / "targets.npy").exists()
    with pytest.raises(UserError, match="has no targets .*probes need labelled data"):
        probe(cache)


def test_factor_targets_need_a_column(tmp_path):
    factors = torch.stack([torch.arange(40) % 2, torch.arange(40) % 4], 1).float()
    cache = _arrays_cache(tmp_path, factors)
    with pytest.raises(UserError, match="2 factor values per item.*target_column"):
        probe(cache)
    assert probe(cache, "knn", target_column=1, k=3).n_classes == 4


def test_unknown_probe_kind_lists_known(digits_caches):
    with pytest.raises(UserError, match="unknown probe kind 'svm'.*Known: knn, linear"):
        probe(digits_caches[0], "svm")


def test_probe_result_is_json_serialisable(digits_caches):
    from dataclasses import asdict

    result = probe(digits_caches[1], "knn")
    assert json.loads(json.dumps(asdict(result)))["kind"] == "knn"
    assert np.isfinite(result.accuracy)


def test_wilson_interval_known_values():
    from autoenc.features.probes import wilson_interval

    # Wilson (1927) 95% interval: 8 of 10 -> (0.4902, 0.9433); 0 of 10 -> (0, 0.2775)
    np.testing.assert_allclose(wilson_interval(8, 10), (0.4902, 0.9433), atol=5e-5)
    np.testing.assert_allclose(wilson_interval(0, 10), (0.0, 0.2775), atol=5e-5)
    low, high = wilson_interval(500, 1000)
    assert low < 0.5 < high and high - low == pytest.approx(2 * 1.959964 * np.sqrt(0.25 / 1000), rel=0.01)


def test_result_has_an_interval_and_the_chance_of_the_test_split(digits_caches):
    train, val = digits_caches
    result = probe(train, "linear", test_cache=val)
    y_test = np.asarray(val.targets)
    assert result.chance == pytest.approx(np.bincount(y_test).max() / len(y_test))
    assert result.ci_low < result.accuracy < result.ci_high <= 1.0
    line = result.summary().splitlines()[0]
    assert "95% CI" in line and "chance" in line and f"{len(train)} train" in line and f"{len(val)} held-out" in line


def test_a_split_of_one_cache_never_tests_on_training_items(digits_caches):
    _, val = digits_caches
    result = probe(val, "knn", k=1, test_fraction=0.5, seed=3)
    assert result.n_train + result.n_test == len(val)
    assert result.accuracy < 1.0  # 1-NN on its own training items would score exactly 1


@pytest.mark.parametrize("options, match", [
    ({"kind": "knn", "k": 0}, r"k must be an integer >= 1 .*got 0"),
    ({"kind": "knn", "k": 2.5}, r"k must be an integer >= 1 .*got 2\.5"),
    ({"kind": "knn", "k": 10_000}, r"k must be an integer in \[1, \d+\] \(the number of training items\), got 10000"),
    ({"kind": "linear", "C": -1.0}, r"C must be a number > 0 .*got -1\.0"),
    ({"kind": "linear", "C": float("nan")}, r"C must be a number > 0 .*got nan"),
    ({"kind": "linear", "max_iter": 0}, r"max_iter must be an integer >= 1 .*got 0"),
    ({"kind": "linear", "k": 3}, r"k does not apply to the linear probe \(its options: C, max_iter\)"),
    ({"test_fraction": 1.0}, r"test_fraction must be in \(0, 1\), got 1\.0"),
    ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
])
def test_bad_options_are_refused_with_parameter_range_and_value(digits_caches, options, match):
    with pytest.raises(UserError, match=match):
        probe(digits_caches[1], **options)


def test_bad_options_are_refused_before_the_cache_is_read(tmp_path):
    with pytest.raises(UserError, match="k must be"):
        probe(tmp_path / "does-not-exist", "knn", k=0)
