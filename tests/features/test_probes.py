"""Probes on cached features: accuracy against chance, two-cache mode, unusable targets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from autoenc.data import ImageArrays
from autoenc.errors import UserError
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
