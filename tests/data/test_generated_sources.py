"""Sources that need no files: digits and patches (bundled with scikit-learn), fake."""

from __future__ import annotations

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data import Digits, Fake, Patches


def test_digits_known_answers() -> None:
    data = Digits().load(None, None)
    assert data.images.shape == (1797, 1, 8, 8) and data.images.dtype == torch.uint8
    assert data.targets.dtype == torch.int64 and data.targets[:10].tolist() == list(range(10))
    assert torch.bincount(data.targets).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # sklearn's pixels are counts 0..16, scaled to 0..255: 17 grey levels, both ends used
    levels = data.images.unique()
    assert len(levels) == 17 and (int(levels.min()), int(levels.max())) == (0, 255)
    assert data.target_names == [str(i) for i in range(10)]
    assert Digits().estimated_bytes(None, None) == data.images.numel()


def test_digits_resized_to_rgb() -> None:
    data = Digits().load(16, 3)
    assert data.images.shape == (1797, 3, 16, 16)
    assert torch.equal(data.images[:, 0], data.images[:, 1])


def test_patches_shapes_and_colour() -> None:
    data = Patches(count=20).load(None, None)
    assert data.images.shape == (20, 3, 32, 32)
    assert set(data.targets.tolist()) <= {0, 1} and data.target_names == ["china", "flower"]
    assert (data.images[:, 0] != data.images[:, 2]).float().mean() > 0.5, "patches look grey"
    small = Patches(count=5, patch_size=16).load(8, 1)
    assert small.images.shape == (5, 1, 8, 8)


def test_patches_are_crops_of_the_photos() -> None:
    from sklearn.datasets import load_sample_images

    photos = [torch.tensor(p).permute(2, 0, 1) for p in load_sample_images().images]
    data = Patches(count=3, patch_size=12, seed=5).load(None, None)
    for image, which in zip(data.images, data.targets, strict=True):
        photo = photos[int(which)]
        # candidates: where the patch's top-left pixel matches; then compare whole windows
        ys, xs = torch.nonzero((photo == image[:, :1, :1]).all(0), as_tuple=True)
        found = any(torch.equal(photo[:, y : y + 12, x : x + 12], image)
                    for y, x in zip(ys.tolist(), xs.tolist(), strict=True))
        assert found, "patch not found in its photo"


def test_patches_are_a_function_of_the_seed() -> None:
    a, b = Patches(count=8, seed=1).load(None, None), Patches(count=8, seed=1).load(None, None)
    c = Patches(count=8, seed=2).load(None, None)
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.images, c.images)


@pytest.mark.parametrize("kwargs, message", [
    ({"count": 0}, r"patches count must be an integer >= 1, got 0"),
    ({"patch_size": 500}, r"patches patch_size must be an integer in \[4, 427\] \(the photos are 427 x 640\) or null \(the image size\), got 500"),
])
def test_patches_bad_options(kwargs, message) -> None:
    with pytest.raises(UserError, match=message):
        Patches(**kwargs)


def test_patches_larger_than_the_photos() -> None:
    with pytest.raises(UserError, match=r"patch size 500 exceeds the photos' height 427"):
        Patches(count=2).load(500, None)


def test_fake_images_and_labels() -> None:
    source = Fake(size=6, num_classes=3, seed=4)
    data = source.load(None, None)
    assert data.images.shape == (6, 3, 32, 32) and set(data.targets.tolist()) <= {0, 1, 2}
    assert torch.equal(data.images, Fake(size=6, num_classes=3, seed=4).load(None, None).images)
    assert not torch.equal(data.images, Fake(size=6, num_classes=3, seed=5).load(None, None).images)
    assert Fake(size=4).load(12, 1).images.shape == (4, 1, 12, 12)
    assert source.estimated_bytes(None, None) == data.images.numel()


@pytest.mark.parametrize("kwargs, message", [({"size": 0}, r"fake size must be an integer >= 1, got 0"),
                                             ({"num_classes": 0}, r"fake num_classes must be an integer >= 1, got 0")])
def test_fake_bad_options(kwargs, message) -> None:
    with pytest.raises(UserError, match=message):
        Fake(**kwargs)
