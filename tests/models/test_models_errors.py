"""Bad model arguments are refused at construction with one line naming the argument, what it
accepts and the value given."""

from __future__ import annotations

import pytest

from autoenc.core.errors import UserError
from autoenc.models import (
    Autoencoder,
    BetaTCVAE,
    CapacityVAE,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)

SHAPE = (1, 8, 8)
MLP = {"encoder": "mlp", "net_options": {"hidden": [4]}}

CASES = [
    (Autoencoder, {"latent_dim": 0}, r"latent_dim must be an integer >= 1, got 0"),
    (Autoencoder, {"latent_dim": -3}, r"latent_dim must be an integer >= 1, got -3"),
    (Autoencoder, {"latent_dim": 2.5}, r"latent_dim must be an integer >= 1, got 2\.5"),
    (Autoencoder, {"latent_dim": True}, r"latent_dim must be an integer >= 1, got True"),
    (Autoencoder, {"sigma": 0.0}, r"sigma must be a number > 0, got 0\.0"),
    (Autoencoder, {"lr": -1e-3}, r"lr must be a number > 0, got -0\.001"),
    (Autoencoder, {"nested_dropout_p": 1.0}, r"nested_dropout_p must be a number in \(0, 1\), got 1\.0"),
    (Autoencoder, {"compile": "fast"}, r"compile must be one of true, false, 'default', .*got 'fast'"),
    (Autoencoder, {"input_shape": (1, 8)}, r"input_shape must be \(C, H, W\), a list of 3 integers >= 1, got \(1, 8\)"),
    (BetaTCVAE, {"tc_dataset_size": True}, r"tc_dataset_size must be an integer >= 1 or null"),
    (Autoencoder, {"likelihood": "poisson"}, r"unknown likelihood 'poisson'.*Known: bernoulli, gaussian"),
    (Autoencoder, {"encoder": "convv"}, r"unknown net 'convv'\. Did you mean 'conv'\?"),
    (Autoencoder, {"latent_channels": 0}, r"latent_channels must be an integer >= 1 or null"),
    (Autoencoder, {"latent_channels": 2}, r"latent_channels needs a net with feature maps \(conv or resnet\)"),
    (VariationalAutoencoder, {"beta": -0.5}, r"beta must be a number >= 0, got -0\.5"),
    (CapacityVAE, {"capacity_max": -1.0}, r"capacity_max must be a number >= 0 \(nats\), got -1\.0"),
    (CapacityVAE, {"capacity_steps": 0}, r"capacity_steps must be an integer >= 1, got 0"),
    (CapacityVAE, {"beta": -2.0}, r"beta must be a number >= 0, got -2\.0"),
    (DenoisingAutoencoder, {"noise": "masking", "noise_level": 1.5},
     r"noise_level for masking noise must be a number in \[0\.0, 1\.0\], got 1\.5"),
    (DenoisingAutoencoder, {"noise": "salt_and_pepper", "noise_level": -0.1},
     r"noise_level for salt_and_pepper noise must be a number in \[0\.0, 1\.0\], got -0\.1"),
    (DenoisingAutoencoder, {"noise": "gaussian", "noise_level": -0.2},
     r"noise_level for gaussian noise must be a number >= 0\.0, got -0\.2"),
    (DenoisingAutoencoder, {"noise": "speckle"}, r"unknown noise 'speckle'"),
]


@pytest.mark.parametrize(("cls", "kwargs", "message"), CASES, ids=lambda v: getattr(v, "__name__", None))
def test_bad_arguments_are_one_line_user_errors(cls: type, kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        cls(**({"input_shape": SHAPE} | MLP | kwargs))
    assert "\n" not in str(info.value)


def test_an_image_size_the_net_cannot_take_names_sizes_that_work() -> None:
    with pytest.raises(UserError, match=r"image size 10 is not divisible by 2\*\*2 = 4.*use image size 8 or 12"):
        Autoencoder((1, 10, 10), encoder="conv", net_options={"widths": [4, 8], "downsamples": 2})


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_noise_levels_at_the_bounds_are_accepted(level: float) -> None:
    assert DenoisingAutoencoder(SHAPE, noise="masking", noise_level=level, **MLP).hparams.noise_level == level
