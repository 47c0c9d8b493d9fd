"""Tiny models for the model tests: small net widths per registered net, options per model."""

from __future__ import annotations

from typing import Any

import pytest

from autoenc.models import MODELS, AutoencoderModule

# Small widths keep every registered net fast at 64 x 64. A net or model registered without
# an entry here fails the tests that need it (add one rather than test the big defaults).
SMALL_NETS: dict[str, dict[str, Any]] = {
    "mlp": {"hidden": [16]},
    "conv": {"widths": [4, 8], "blocks_per_stage": 0},
    "resnet": {"widths": [2, 4], "blocks_per_stage": 1},
}
MODEL_OPTIONS: dict[str, dict[str, Any]] = {
    "ae": {},
    "dae": {"noise": "masking", "noise_level": 0.3},
    "vae": {"beta": 1.0},
    "capacity_vae": {"capacity_max": 5.0, "capacity_steps": 10},
    "tcvae": {"tc_beta": 6.0},
    "topk": {"k": 1, "aux_k": 1, "dead_after": 4},
}


def small_net_options(net: str) -> dict[str, Any]:
    """Small options for the registered net ``net``; fails loudly for a net without any."""
    if net not in SMALL_NETS:
        pytest.fail(f"net {net!r} is registered but has no small options in tests/models/conftest.py "
                    "SMALL_NETS; add an entry so the model tests cover it")
    return dict(SMALL_NETS[net])


def model_options(model: str) -> dict[str, Any]:
    """Constructor options for the registered model ``model``; fails loudly when missing."""
    if model not in MODEL_OPTIONS:
        pytest.fail(f"model {model!r} is registered but has no entry in tests/models/conftest.py "
                    "MODEL_OPTIONS; add one so the model tests cover it")
    return dict(MODEL_OPTIONS[model])


def make_model(model: str, shape: tuple[int, int, int], net: str = "mlp", latent_dim: int = 3,
               **overrides: Any) -> AutoencoderModule:
    """A registered model with small nets: ``MODELS[model](shape, latent_dim, net, ...)``."""
    options = model_options(model) | overrides
    return MODELS.get(model)(shape, latent_dim=latent_dim, encoder=net,
                             net_options=small_net_options(net), **options)
