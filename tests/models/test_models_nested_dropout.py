"""Nested dropout (Rippel et al. 2014): while training, each code keeps a prefix of random
length b + 1, b ~ Geometric(p), and is zero after it; in eval mode codes pass unchanged."""

from __future__ import annotations

import pytest
import torch
from _tiny_models import make_model

from autoenc.core.errors import UserError
from autoenc.models import MODELS

D = 6
P = 0.3
#: Models whose code is dense, so a prefix of it can be kept (a TopK code is sparse: refused).
DENSE = [m for m in MODELS.list() if m != "topk"]


def ordered(model_name: str = "ae", enabled: bool = True):
    return make_model(model_name, (1, 8, 8), "mlp", latent_dim=D, nested_dropout=enabled, nested_dropout_p=P)


def test_training_codes_keep_a_prefix_and_zero_the_rest() -> None:
    model = ordered().train()
    z = torch.rand(4000, D) + 0.5  # no zeros of its own
    t = model.truncate_code(z)
    kept = t != 0
    # a prefix: once a unit is dropped, every later unit is dropped too
    assert torch.equal(kept, kept.cumprod(dim=1).bool())
    assert kept[:, 0].all()  # b = 0 still keeps the first unit
    torch.testing.assert_close(t[kept], z[kept], rtol=0, atol=0)  # the prefix is unchanged

    # kept length k = min(b, D - 1) + 1 with P(b = j) = (1 - p)^j p
    counts = torch.bincount(kept.sum(1), minlength=D + 1)[1:].double() / len(z)
    expected = torch.tensor([(1 - P) ** j * P for j in range(D - 1)] + [(1 - P) ** (D - 1)], dtype=torch.float64)
    torch.testing.assert_close(counts, expected, rtol=0, atol=0.03)


def test_truncation_varies_per_example() -> None:
    t = ordered().train().truncate_code(torch.ones(200, D))
    assert len(set(t.sum(1).tolist())) > 2


@pytest.mark.parametrize("model_name", DENSE)
def test_eval_mode_is_identity(model_name: str) -> None:
    model = ordered(model_name).eval()
    z = torch.rand(50, D)
    torch.testing.assert_close(model.truncate_code(z), z, rtol=0, atol=0)
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        if not model.has_prior:  # a VAE's forward samples z; its mean is checked by encode
            torch.testing.assert_close(model(x).z, model.encode(x))
        assert (model.encode(x) != 0).all()


def test_disabled_is_identity_in_training() -> None:
    model = ordered(enabled=False).train()
    z = torch.rand(50, D)
    torch.testing.assert_close(model.truncate_code(z), z, rtol=0, atol=0)


@pytest.mark.parametrize("model_name", DENSE)
def test_forward_in_training_truncates_the_code_the_decoder_sees(model_name: str) -> None:
    model = ordered(model_name).train()
    out = model.training_output(torch.rand(300, 1, 8, 8))
    nonzero = out.z != 0
    assert torch.equal(nonzero, nonzero.cumprod(dim=1).bool())
    assert (~nonzero).any()  # with p = 0.3 and 300 codes some units are dropped


def test_topk_refuses_nested_dropout() -> None:
    with pytest.raises(UserError, match=r"^nested_dropout orders a dense code"):
        ordered("topk")
