"""Spatial (channel) bottlenecks: latent_channels on the conv and resnet nets for every model kind."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.datasets import load_digits

from autoenc.core.errors import UserError
from autoenc.models import MODELS, Autoencoder, VariationalAutoencoder
from autoenc.models.autoencoder_module import CHECKPOINT_KEY
from autoenc.nets import ConvNet, MLPNet, ResNetNet
from autoenc.runs.checkpoints import build_model

NETS = {"conv": ConvNet(widths=[4, 8]), "resnet": ResNetNet(widths=[2, 4], blocks_per_stage=1)}
KINDS = {"ae": {}, "dae": {"noise": "masking", "noise_level": 0.3}, "vae": {}}
SHAPE = (1, 16, 16)


def spatial(kind: str, net: str, channels: int = 3, **kwargs: object) -> torch.nn.Module:
    return MODELS.get(kind)(SHAPE, net=NETS[net], latent_channels=channels, **KINDS[kind], **kwargs)


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_codes_are_channel_maps_at_the_last_stage_resolution(kind: str, net: str) -> None:
    torch.manual_seed(0)
    model = spatial(kind, net)
    x = torch.rand(5, *SHAPE)
    h = w = 4  # 16 -> 8 -> 4: both stages halve (the stride rule stops at 4 pixels)
    assert model.latent_shape == (3, h, w)
    assert model.latent_size == model.latent_dim == 3 * h * w == model.hparams["latent_dim"]
    z = model.encode(x)
    assert z.shape == (5, 3, h, w)
    assert model.decode(z).shape == (5, *SHAPE)
    out = model.training_output(x)
    assert out.z.shape == (5, 3, h, w) and out.recon.shape == (5, *SHAPE) and out.loss.isfinite()
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    squeeze, expand = model.encoder.squeeze, model.decoder.expand
    assert squeeze.kernel_size == expand.kernel_size == (1, 1)
    assert squeeze.out_channels == (6 if kind == "vae" else 3) and expand.in_channels == 3


@pytest.mark.parametrize("net", sorted(NETS))
def test_vae_posterior_maps_kl_per_element_and_per_channel(net: str) -> None:
    torch.manual_seed(0)
    model = spatial("vae", net)
    x = torch.rand(4, *SHAPE)
    mu, logvar = model.posterior(x)
    assert mu.shape == logvar.shape == (4, 3, 4, 4)
    out = model(x)
    assert out.kl_per_dim.shape == (48,)
    torch.testing.assert_close(out.kl_per_dim.sum(), out.terms["kl"])  # nats per image
    model._add_eval_batch(out, 4)  # what validation adds up per batch (logged as val/<name> per epoch)
    names, sums, count = model._eval_sums
    logged = dict(zip(names, sums / count, strict=True))
    per_channel = torch.stack([logged[f"kl_channel_{c}"] for c in range(3)])
    torch.testing.assert_close(per_channel, out.kl_per_dim.reshape(3, 16).sum(1))
    assert not any(k.startswith("kl_dim_") for k in logged)
    assert model.kl_per_dim(x).shape == (48,)
    assert model.sample(2).shape == (2, *SHAPE)


def test_downsamples_sets_the_code_size_and_a_too_small_image_is_one_line() -> None:
    model = Autoencoder(SHAPE, net=ConvNet(widths=[4, 4, 4], downsamples=3), latent_channels=2)
    assert model.latent_shape == (2, 2, 2)
    assert Autoencoder(SHAPE, net=ConvNet(widths=[4, 4], downsamples=0), latent_channels=2).latent_shape == (2, 16, 16)
    with pytest.raises(UserError, match=r"^image size 16 is not divisible by 2\*\*5 = 32 that the conv encoder") as err:
        Autoencoder(SHAPE, net=ConvNet(widths=[4] * 5, downsamples=5), latent_channels=2)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"net": MLPNet(hidden=[8]), "latent_channels": 2}, r"^latent_channels needs a net with feature maps \(conv or resnet\)"),
    ({"latent_channels": 0}, r"^latent_channels must be an integer >= 1 or null \(a flat code of latent_dim units\), got 0$"),
    ({"latent_channels": 2.5}, r"^latent_channels must be an integer >= 1"),
])
def test_bad_latent_channels_are_one_line(kwargs: dict, message: str) -> None:
    for cls in (Autoencoder, VariationalAutoencoder):
        with pytest.raises(UserError, match=message) as err:
            cls(SHAPE, **kwargs)
        assert "\n" not in str(err.value)


def test_flat_models_have_a_one_dimensional_latent_shape() -> None:
    model = VariationalAutoencoder(SHAPE, latent_dim=5, net=NETS["conv"])
    assert model.latent_shape == (5,) and model.latent_size == 5
    assert model.encode(torch.rand(2, *SHAPE)).shape == (2, 5)


def test_nested_dropout_orders_channels() -> None:
    torch.manual_seed(0)
    model = spatial("ae", "conv", channels=4, nested_dropout=True, nested_dropout_p=0.5).train()
    z = torch.ones(64, 4, 4, 4)
    kept = model.truncate_code(z)
    per_channel = kept.flatten(2)
    assert ((per_channel == 0).all(2) | (per_channel == 1).all(2)).all(), "a channel is kept or dropped whole"
    counts = (per_channel[:, :, 0] == 1).sum(1)
    assert torch.equal(kept[:, :, 0, 0], (torch.arange(4) < counts[:, None]).float()), "a prefix of channels"
    assert 1 <= counts.min() and counts.max() <= 4 and len(counts.unique()) > 1
    assert torch.equal(model.decode_prefix(z, 2), model.decode(z * (torch.arange(4) < 2).float()[:, None, None]))


def test_checkpoint_round_trip_keeps_the_spatial_code() -> None:
    torch.manual_seed(0)
    model = spatial("vae", "resnet").eval()
    ckpt = {"state_dict": model.state_dict()}
    model.on_save_checkpoint(ckpt)
    assert ckpt[CHECKPOINT_KEY]["model"] == "vae"
    again = build_model(ckpt, "memory")
    x = torch.rand(3, *SHAPE)
    assert again.latent_shape == model.latent_shape
    with torch.no_grad():
        torch.testing.assert_close(again.encode(x), model.encode(x))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_loss_falls_on_digits(kind: str) -> None:
    """A spatial model (conv net, 3 channels of 4x4 on 8x8 digits) learns in a few Adam steps."""
    torch.manual_seed(0)
    digits = torch.tensor(load_digits().images, dtype=torch.float32)[:256, None] / 16.0
    model = MODELS.get(kind)((1, 8, 8), net=ConvNet(widths=[8, 16]), latent_channels=3, **KINDS[kind])
    assert model.latent_shape == (3, 4, 4)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def val_loss() -> float:
        model.eval()
        with torch.no_grad():
            loss = float(model(digits).terms["recon"])
        model.train()
        return loss

    before = val_loss()
    for step in range(40):
        batch = digits[(step * 64) % 256:][:64]
        loss = model.training_output(batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = val_loss()
    assert math.isfinite(after) and after < 0.8 * before, (before, after)
