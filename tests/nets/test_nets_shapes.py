"""Every registered encoder/decoder pair on every test image shape: exact shapes, finite
outputs, gradients reaching every parameter. New nets are picked up from the registries."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from autoenc.nets import NETS, build_decoder, build_encoder

# Small widths keep the file fast; a net missing here is tested with its defaults.
SMALL = {
    "mlp": {"hidden": [24, 12]},
    "conv": {"widths": [4, 8, 8], "blocks_per_stage": 1},
    "resnet": {"widths": [2, 4, 4], "blocks_per_stage": [1, 2, 1]},
}
SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 12, 20), (4, 16, 16), (2, 15, 9)]
LATENT = 3


def small(name: str) -> dict:
    return SMALL.get(name, {})


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", NETS.list())
def test_round_trip_shapes_and_gradients(name: str, shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    enc = build_encoder(name, shape, 2 * LATENT, small(name))  # a VAE asks for 2 * latent
    dec = build_decoder(name, shape, LATENT, small(name))
    x = torch.rand(4, *shape)

    h = enc(x)
    assert h.shape == (4, 2 * LATENT)
    logits = dec(h[:, :LATENT])
    assert logits.shape == (4, *shape)
    assert torch.isfinite(logits).all()

    F.binary_cross_entropy_with_logits(logits, x).backward()
    for net in (enc, dec):
        for pname, p in net.named_parameters():
            assert p.grad is not None, f"{name} {type(net).__name__}.{pname} got no gradient"
            assert p.grad.abs().sum() > 0, f"{name} {type(net).__name__}.{pname} has zero gradient"


@pytest.mark.parametrize("shape", SHAPES[:4], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", NETS.list())
def test_defaults_take_the_common_shapes(name: str, shape: tuple[int, int, int]) -> None:
    enc = build_encoder(name, shape, 5)
    dec = build_decoder(name, shape, 5)
    with torch.no_grad():
        assert dec(enc(torch.rand(2, *shape))).shape == (2, *shape)


@pytest.mark.parametrize("name", NETS.list())
def test_options_round_trip_through_their_config(name: str) -> None:
    """What a checkpoint stores (plain data) rebuilds equal options and the same nets."""
    from autoenc.nets import net_from_config

    options = NETS.get(name)(**small(name))
    again = net_from_config(options.config())
    assert again == options and again.config() == options.config()
    assert [p.shape for p in again.encoder((1, 16, 16), 4).parameters()] == \
        [p.shape for p in options.encoder((1, 16, 16), 4).parameters()]


@pytest.mark.parametrize("name", NETS.list())
def test_channels_last_input_gives_the_same_codes(name: str) -> None:
    torch.manual_seed(0)
    enc = build_encoder(name, (3, 16, 16), 4, small(name)).eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        expected = enc(x)
        got = enc.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NETS.list())
def test_list_options_from_yaml_equal_tuples(name: str) -> None:
    torch.manual_seed(0)
    as_tuples = {k: tuple(v) if isinstance(v, list) else v for k, v in small(name).items()}
    a = build_encoder(name, (1, 16, 16), 4, small(name))
    b = build_encoder(name, (1, 16, 16), 4, as_tuples)
    assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]


def test_auto_downsampling_known_feature_maps() -> None:
    # The documented rule: halve while H, W stay integers and >= 4, at most once per stage.
    expected = {
        (1, 8, 8): (128, 4, 4),
        (1, 28, 28): (128, 7, 7),
        (3, 32, 32): (128, 4, 4),
        (3, 64, 64): (128, 8, 8),
        (1, 12, 20): (128, 6, 10),
        (1, 15, 15): (128, 15, 15),
    }
    for shape, feature_shape in expected.items():
        assert build_encoder("conv", shape, 2).feature_shape == feature_shape
        assert build_decoder("conv", shape, 2).feature_shape == feature_shape
    assert build_encoder("resnet", (1, 28, 28), 2).feature_shape == (4 * 64, 7, 7)


def test_explicit_downsamples_override_the_minimum_size() -> None:
    enc = build_encoder("conv", (1, 8, 8), 2, {"widths": [4, 4, 4], "downsamples": 3})
    dec = build_decoder("conv", (1, 8, 8), 2, {"widths": [4, 4, 4], "downsamples": 3})
    assert enc.feature_shape == (4, 1, 1)
    assert dec(enc(torch.rand(2, 1, 8, 8))).shape == (2, 1, 8, 8)
    assert build_encoder("conv", (1, 32, 32), 2, {"downsamples": 0}).feature_shape == (128, 32, 32)


def test_decoder_mirrors_encoder_widths() -> None:
    options = {"widths": [4, 8, 16], "downsamples": 2}
    enc = build_encoder("conv", (1, 16, 16), 2, options)
    dec = build_decoder("conv", (1, 16, 16), 2, options)
    enc_convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    dec_convs = [
        m for m in dec.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    assert [(m.in_channels, m.out_channels, m.stride[0]) for m in enc_convs] == [
        (1, 4, 2),
        (4, 8, 2),
        (8, 16, 1),
    ]
    assert [(type(m).__name__, m.in_channels, m.out_channels) for m in dec_convs] == [
        ("Conv2d", 16, 8),
        ("ConvTranspose2d", 8, 4),
        ("ConvTranspose2d", 4, 4),
        ("Conv2d", 4, 1),
    ]
    assert enc.fc.in_features == dec.fc.out_features == 16 * 4 * 4


def test_mlp_without_hidden_layers_is_linear() -> None:
    enc = build_encoder("mlp", (1, 4, 4), 3, {"hidden": []})
    dec = build_decoder("mlp", (1, 4, 4), 3, {"hidden": []})
    x = torch.rand(5, 1, 4, 4)
    y = torch.rand(5, 1, 4, 4)
    with torch.no_grad():
        zero = enc(torch.zeros(1, 1, 4, 4))
        torch.testing.assert_close(enc(x + y) - zero, (enc(x) - zero) + (enc(y) - zero))
    assert len([m for m in dec.modules() if isinstance(m, torch.nn.Linear)]) == 1


@pytest.mark.parametrize("name", NETS.list())
def test_state_dict_round_trip_and_deepcopy(name: str) -> None:
    torch.manual_seed(0)
    a = build_decoder(name, (2, 8, 12), 3, small(name)).eval()
    torch.manual_seed(1)
    b = build_decoder(name, (2, 8, 12), 3, small(name)).eval()
    z = torch.randn(4, 3)
    with torch.no_grad():
        assert not torch.allclose(a(z), b(z))
        b.load_state_dict(a.state_dict())
        torch.testing.assert_close(b(z), a(z))
        torch.testing.assert_close(copy.deepcopy(a)(z), a(z))
