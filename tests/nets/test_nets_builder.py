"""The staged builder shared by the conv and resnet nets: parameter names (checkpoints), layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autoenc.core.errors import UserError
from autoenc.nets import build_decoder, build_encoder
from autoenc.nets.layers import conv_block
from autoenc.nets.options import StagedNetOptions, staged_params
from autoenc.nets.staged import StageBlocks, StagedDecoder, StagedEncoder

OPTIONS = {"widths": [2, 4], "norm": "group"}


def _conv(prefix: str) -> list[str]:
    return [f"{prefix}.0.weight", f"{prefix}.1.weight", f"{prefix}.1.bias"]


def _bottleneck(prefix: str, shortcut: bool) -> list[str]:
    names = [f"{prefix}.{layer}{i}.{p}" for i in (1, 2, 3) for layer, ps in (("conv", ["weight"]),
             ("norm", ["weight", "bias"])) for p in ps]
    return names + (_conv(f"{prefix}.shortcut") if shortcut else [])


# Parameter names written by the conv / resnet nets before they shared a builder; checkpoints
# saved then must keep loading, so these names are a contract.
EXPECTED = {
    ("conv", "encoder"): [*_conv("stage1.0"), *_conv("stage1.1"), *_conv("stage2.0"), "fc.weight", "fc.bias"],
    ("conv", "decoder"): ["fc.weight", "fc.bias", *_conv("stage1.0"), *_conv("stage2.0"), *_conv("stage2.1"),
                          "out.weight", "out.bias"],
    ("resnet", "encoder"): [*_conv("stem"), *_bottleneck("stage1.0", True), *_bottleneck("stage2.0", True),
                            *_bottleneck("stage2.1", False), "fc.weight", "fc.bias"],
    ("resnet", "decoder"): ["fc.weight", "fc.bias", *_bottleneck("stage1.0", False), *_bottleneck("stage1.1", True),
                            *_bottleneck("stage2.0", True), "out.weight", "out.bias"],
}
BLOCKS = {"conv": [1, 0], "resnet": [1, 2]}


@pytest.mark.parametrize(("name", "role"), sorted(EXPECTED))
def test_parameter_names_are_those_of_old_checkpoints(name: str, role: str) -> None:
    build = build_encoder if role == "encoder" else build_decoder
    net = build(name, (1, 8, 8), 3, {**OPTIONS, "blocks_per_stage": BLOCKS[name]})
    assert [k for k, _ in net.named_parameters()] == EXPECTED[(name, role)]


@pytest.mark.parametrize("name", ["conv", "resnet"])
def test_state_dict_round_trip_between_builds(name: str) -> None:
    """A state dict of one build loads into another and gives the same outputs."""
    torch.manual_seed(0)
    options = {"widths": [4, 8], "blocks_per_stage": 1}
    enc, dec = build_encoder(name, (1, 16, 16), 5, options), build_decoder(name, (1, 16, 16), 5, options)
    enc2, dec2 = build_encoder(name, (1, 16, 16), 5, options), build_decoder(name, (1, 16, 16), 5, options)
    enc2.load_state_dict(enc.state_dict())
    dec2.load_state_dict(dec.state_dict())
    x = torch.rand(2, 1, 16, 16)
    for net in (enc, enc2, dec, dec2):
        net.eval()
    assert torch.equal(dec(enc(x)), dec2(enc2(x)))


class _WideBlocks(StageBlocks):
    """A test architecture: plain conv blocks that double the channels of their width."""

    name = "wide"
    expansion = 2
    min_blocks = 1

    def down(self, in_channels: int, width: int, stride: int) -> nn.Module:
        return conv_block(in_channels, 2 * width, stride, self.norm, self.activation)

    def same(self, width: int) -> nn.Module:
        return conv_block(2 * width, 2 * width, 1, self.norm, self.activation)

    def up(self, width: int, target: int, stride: int) -> nn.Module:
        if stride == 2:
            return nn.ConvTranspose2d(2 * width, 2 * target, 4, 2, 1)
        return conv_block(2 * width, 2 * target, 1, self.norm, self.activation)


class _WideNet(StagedNetOptions):
    min_blocks = 1
    PARAMS = staged_params(1)

    def encoder(self, input_shape, out_features, *, spatial=False):  # type: ignore[no-untyped-def]
        return _WideEncoder(input_shape, out_features, self, spatial=spatial)

    def decoder(self, output_shape, latent_dim, *, spatial=False):  # type: ignore[no-untyped-def]
        return _WideDecoder(output_shape, latent_dim, self, spatial=spatial)


class _WideEncoder(StagedEncoder):
    blocks = _WideBlocks


class _WideDecoder(StagedDecoder):
    blocks = _WideBlocks


def test_builder_takes_any_block_factory() -> None:
    """Only the blocks differ between architectures: a new one gets the plan, the shapes,
    the stage layout and the messages of the shared skeleton."""
    options = {"widths": [3, 5], "blocks_per_stage": [1, 2], "downsamples": 1, "norm": "batch", "activation": "relu"}
    enc = _WideNet(**options).encoder((2, 12, 12), 7)
    dec = _WideNet(**options).decoder((2, 12, 12), 7)
    assert enc.feature_shape == dec.feature_shape == (10, 6, 6)
    assert [len(enc.stage1), len(enc.stage2)] == [1, 2]
    assert [len(dec.stage1), len(dec.stage2)] == [2, 1]  # stage 2 first, mirrored
    z = enc(torch.rand(3, 2, 12, 12))
    assert z.shape == (3, 7)
    assert dec(z).shape == (3, 2, 12, 12)
    with pytest.raises(UserError, match="the wide encoder with downsamples=2 needs"):
        _WideEncoder((2, 10, 10), 7, _WideNet(**{**options, "downsamples": 2}))
