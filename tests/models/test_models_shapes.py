"""Every registered model x every registered net x the common image shapes: the interface's
shapes, finite outputs, and a gradient reaching every parameter. New models and nets are
picked up from the registries (and fail loudly until _tiny_models.py gives them options)."""

from __future__ import annotations

import pytest
import torch
from _tiny_models import MODEL_OPTIONS, SMALL_NETS, make_model

from autoenc.models import MODELS, AutoencoderOutput
from autoenc.nets import NETS

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 64, 64)]
LATENT = 3
BATCH = 4


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("net", NETS.list())
@pytest.mark.parametrize("model_name", MODELS.list())
def test_interface_shapes_and_gradients(model_name: str, net: str, shape: tuple[int, int, int]) -> None:
    model = make_model(model_name, shape, net, latent_dim=LATENT).train()
    x = torch.rand(BATCH, *shape)

    out = model.training_output(x)  # the optimised path: a DAE corrupts its input here
    assert isinstance(out, AutoencoderOutput)
    assert out.recon.shape == x.shape and out.logits.shape == x.shape
    assert out.z.shape == (BATCH, LATENT)
    assert out.recon_nll.shape == (BATCH,)
    assert out.loss.shape == ()
    for name, value in {"loss": out.loss, "recon": out.recon, "z": out.z, **out.terms}.items():
        assert torch.isfinite(value).all(), f"{name} is not finite"
    assert 0.0 <= float(out.recon.detach().min()) and float(out.recon.detach().max()) <= 1.0

    out.loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{model_name}/{net}: {pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{model_name}/{net}: {pname} has a non-finite gradient"
    assert any(float(p.grad.abs().sum()) > 0 for p in model.parameters())

    model.eval()
    with torch.no_grad():
        z = model.encode(x)
        assert z.shape == (BATCH, LATENT)
        image = model.decode(z)
        assert image.shape == x.shape
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
        assert model(x).recon.shape == x.shape


def test_every_registered_component_has_test_options() -> None:
    """The parametrized test above covers a new net/model only with options from here."""
    assert set(NETS.list()) <= set(SMALL_NETS), "add small options for the new net(s)"
    assert set(MODELS.list()) <= set(MODEL_OPTIONS), "add options for the new model(s)"


@pytest.mark.parametrize("model_name", MODELS.list())
def test_latent_dim_one_works(model_name: str) -> None:
    model = make_model(model_name, (1, 8, 8), "mlp", latent_dim=1).eval()
    with torch.no_grad():
        assert model.encode(torch.rand(2, 1, 8, 8)).shape == (2, 1)


@pytest.mark.parametrize("model_name", MODELS.list())
def test_wrong_image_shape_is_refused_with_the_expected_shape(model_name: str) -> None:
    model = make_model(model_name, (1, 8, 8), "mlp").eval()
    with pytest.raises(ValueError, match=r"built for images of shape \(B, 1, 8, 8\), got \(2, 1, 9, 9\)"):
        model(torch.rand(2, 1, 9, 9))
