"""``model.encode`` is ``code_head()(encoder(x))`` shaped to ``latent_shape`` for every
registered model, and an export reproduces it exactly."""

from __future__ import annotations

import pytest
import torch
from _tiny_models import make_model

from autoenc.models import MODELS
from autoenc.runs.checkpoints import export_encoder, load_exported_encoder

SHAPE = (1, 8, 8)


@pytest.mark.parametrize("name", MODELS.list())
def test_encode_is_the_code_head_of_the_net(name: str) -> None:
    model = make_model(name, SHAPE, "mlp", latent_dim=4).eval()
    x = torch.rand(6, *SHAPE)
    with torch.no_grad():
        z = model.encode(x)
        assert z.shape == (6, *model.latent_shape) and model.latent_shape == (4,)
        assert torch.equal(z, model.code_head()(model.encoder(x)).reshape(z.shape))


@pytest.mark.parametrize("name", MODELS.list())
def test_every_registered_model_exports_its_encode(name: str, tmp_path) -> None:
    model = make_model(name, SHAPE, "mlp", latent_dim=4).eval()
    x = torch.rand(8, *SHAPE)
    export_encoder(model, tmp_path / "enc")
    with torch.no_grad():
        assert torch.equal(load_exported_encoder(tmp_path / "enc")(x), model.encode(x))
