"""Sizes that cannot be allocated are refused up front, in one line saying what fits."""

from __future__ import annotations

import re

import pytest

from autoenc.core.errors import UserError
from autoenc.models import MODELS


@pytest.mark.parametrize("model", ["ae", "vae"])
def test_a_latent_dim_too_large_to_train_says_which_fits(model: str) -> None:
    with pytest.raises(UserError, match=r"to train .* of memory is available; at most latent_dim [\d,]+ fits") as err:
        MODELS.get(model)(input_shape=(1, 8, 8), latent_dim=10**9, encoder="mlp", net_options={"hidden": [64]})
    fits = int(re.search(r"at most latent_dim ([\d,]+)", str(err.value)).group(1).replace(",", ""))
    MODELS.get(model)(input_shape=(1, 8, 8), latent_dim=min(fits, 64), encoder="mlp", net_options={"hidden": [64]})


def test_an_image_size_too_large_is_refused_before_allocating() -> None:
    with pytest.raises(UserError, match=r"one \(1, 1000000000, 1000000000\) image takes .* use a smaller image_size"):
        MODELS.get("ae")(input_shape=(1, 10**9, 10**9), latent_dim=4, encoder="mlp")


def test_disentangle_n_too_large_says_which_n_fits() -> None:
    from autoenc.data.sprites import SpritesGroundTruth
    from autoenc.measure.disentanglement.interventional import sample_codes

    def encode(images):
        raise AssertionError("nothing may be encoded")

    with pytest.raises(UserError, match=r"--n 1,000,000,000,000: .* at most --n [\d,]+ fits"):
        sample_codes(encode, SpritesGroundTruth(image_size=32), 10**12)
