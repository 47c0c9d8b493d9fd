"""The ground-truth protocol: sprites at any size and factor subset, labelled data as one factor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data import Digits, Sprites
from autoenc.data.ground_truth import (
    GroundTruth,
    LabelledGroundTruth,
    ground_truth_of,
    sources_with_factors,
)
from autoenc.data.sprites import SpritesGroundTruth, index_to_factors, render


def test_sprites_ground_truth_renders_what_load_serves() -> None:
    source = Sprites(shapes=[0, 2], scales=[1, 3, 5], orientations=[0], pos_x=[0, 9, 31], pos_y=[4, 20])
    gt = source.ground_truth(32)
    assert isinstance(gt, GroundTruth)
    # the fixed orientation is not a factor; the others index their subsets
    assert gt.factor_names == ("shape", "scale", "pos_x", "pos_y")
    assert gt.factor_sizes == (2, 3, 3, 2)
    factors = gt.sample_factors(50, np.random.default_rng(0))
    assert factors.shape == (50, 4) and factors.dtype == np.int64
    assert (factors.max(0) < np.array(gt.factor_sizes)).all() and factors.min() >= 0
    full = gt.full_factors(factors)
    assert set(full[:, 0].tolist()) <= {0, 2} and set(full[:, 2].tolist()) == {0}
    loaded = source.load(32, None).images
    subsets = source.subsets()
    everything = index_to_factors(torch.arange(len(source)), subsets)
    rows = [int(np.flatnonzero((everything == f).all(1).numpy())[0]) for f in full]
    assert torch.equal(gt.render(factors), loaded[rows])


def test_sprites_ground_truth_sizes_channels_and_seeds() -> None:
    gt = SpritesGroundTruth({"orientation": [0, 10]}, image_size=48, channels=3)
    assert gt.factor_sizes == (3, 6, 2, 32, 32)
    f1 = gt.sample_factors(8, np.random.default_rng(3))
    assert np.array_equal(f1, gt.sample_factors(8, np.random.default_rng(3)))
    images = gt.render(f1)
    assert images.shape == (8, 3, 48, 48) and images.dtype == torch.uint8
    assert torch.equal(images[:, 0], images[:, 2])
    assert torch.equal(images[:, :1], render(gt.full_factors(f1), 48))


@pytest.mark.parametrize(("factors", "message"), [
    (np.zeros((2, 3), dtype=np.int64), r"shape \(n, 5\)"),
    (np.full((2, 5), 0.5), "must be integers"),
    (np.array([[0, 0, 2, 0, 0]]), "factor 'orientation' index 2 is out of range 0..1"),
])
def test_sprites_ground_truth_refuses_bad_factors(factors: np.ndarray, message: str) -> None:
    gt = SpritesGroundTruth({"orientation": [0, 10]}, image_size=32)
    with pytest.raises(UserError, match=message):
        gt.render(factors)


def test_labelled_data_is_a_one_factor_ground_truth() -> None:
    data = Digits().load(None, None)
    gt = LabelledGroundTruth(data.images, data.targets)
    assert gt.factor_names == ("label",) and gt.factor_sizes == (10,)
    rng = np.random.default_rng(0)
    factors = gt.sample_factors(40, rng)
    images = gt.render(factors, np.random.default_rng(1))
    # each rendered image is an image of the asked class
    for value, image in zip(factors[:, 0], images, strict=True):
        matches = (data.images == image).flatten(1).all(1)
        assert set(data.targets[matches].tolist()) == {int(gt.classes[0][value])}
    assert torch.equal(images, gt.render(factors, np.random.default_rng(1)))
    with pytest.raises(UserError, match="label 'label' has one value .* needs at least two"):
        LabelledGroundTruth(data.images[:3], torch.zeros(3, dtype=torch.int64))
    with pytest.raises(UserError, match="one row of labels per image"):
        LabelledGroundTruth(data.images[:3], torch.zeros(4, dtype=torch.int64))


def test_sources_without_factors_say_which_have_them() -> None:
    assert "sprites" in sources_with_factors() and "digits" not in sources_with_factors()
    assert ground_truth_of(Sprites(), 32, 1).factor_sizes == (3, 6, 40, 32, 32)
    with pytest.raises(UserError, match="'digits' has no ground-truth factors; sources with factors: sprites"):
        ground_truth_of(Digits())
