"""The TopK autoencoder: k-sparse codes, the k range, dead units and the AuxK loss."""

from __future__ import annotations

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.models import TopKAutoencoder

SHAPE = (1, 8, 8)
MLP = {"encoder": "mlp", "net_options": {"hidden": [16]}}


def last_linear(model: TopKAutoencoder) -> torch.nn.Linear:
    return [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]


def topk(**options) -> TopKAutoencoder:
    return TopKAutoencoder(SHAPE, **({"latent_dim": 12, "k": 3} | MLP | options))


def test_code_keeps_the_k_largest_pre_activations_relud() -> None:
    model = topk().eval()
    x = torch.rand(40, *SHAPE)
    with torch.no_grad():
        pre, z = model.encoder(x), model.encode(x)
    top = pre.topk(3, dim=1)
    expected = torch.zeros_like(pre).scatter(1, top.indices, top.values.relu())
    torch.testing.assert_close(z, expected, rtol=0, atol=0)
    # at most k non-zeros: exactly the positive ones among the k largest
    assert torch.equal((z != 0).sum(1), (top.values > 0).sum(1))


def test_code_has_exactly_k_non_zeros_when_pre_activations_are_positive() -> None:
    model = topk().eval()
    with torch.no_grad():
        last_linear(model).bias.add_(100.0)  # every pre-activation > 0: ReLU zeroes none
        z = model.encode(torch.rand(40, *SHAPE))
    assert ((z != 0).sum(1) == 3).all()
    assert z.shape == (40, 12) and model.latent_shape == (12,)


@pytest.mark.parametrize("k", [0, 13, -1])
def test_k_outside_one_to_latent_dim_is_one_line(k: int) -> None:
    with pytest.raises(UserError, match=r"^k must be an integer") as err:
        topk(k=k)
    assert "\n" not in str(err.value)


def test_dead_units_are_counted_and_auxk_trains_only_them() -> None:
    torch.manual_seed(0)
    model = topk(aux_k=4, dead_after=8).train()
    x = torch.rand(16, *SHAPE)
    out = model.training_output(x)
    dead = model.dead_units()
    # 16 images seen, dead_after 8: a unit that fired in none of them is dead, one that fired is not
    with torch.no_grad():
        fired = (model.code_head()(model.encoder(x)) != 0).any(0)
    assert torch.equal(dead, ~fired) and dead.any()
    assert out.terms["aux"] > 0
    # the aux loss's gradient reaches the encoder rows of dead units only
    model.zero_grad()
    out.terms["aux"].backward()
    rows = last_linear(model).weight.grad.abs().sum(1)
    assert (rows[~dead] == 0).all() and (rows[dead] > 0).any()


def test_no_dead_units_no_aux_loss() -> None:
    model = topk(aux_k=4, dead_after=10_000).train()
    out = model.training_output(torch.rand(8, *SHAPE))
    assert not model.dead_units().any() and out.terms["aux"] == 0


def test_training_lowers_the_loss(digits_images: torch.Tensor) -> None:
    torch.manual_seed(0)
    model = TopKAutoencoder((1, 8, 8), latent_dim=16, k=4, aux_k=8, dead_after=64, lr=3e-3, **MLP).train()
    optimizer = model.configure_optimizers()
    losses = []
    for _ in range(60):
        loss = model.training_output(digits_images).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.85 * losses[0]
