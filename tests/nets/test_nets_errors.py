"""Bad nets are refused at construction with one actionable line (UserError)."""

from __future__ import annotations

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.nets import NETS, ConvNet, build_decoder, build_encoder

CONV_NETS = ["conv", "resnet"]


def one_line(err: pytest.ExceptionInfo[UserError]) -> None:
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", CONV_NETS)
@pytest.mark.parametrize("build", [build_encoder, build_decoder])
def test_image_size_it_cannot_take_names_the_sizes_it_can(name, build) -> None:
    with pytest.raises(
        UserError,
        match=rf"image size 28 is not divisible by 2\*\*3 = 8 that the {name} (en|de)coder "
        r"with downsamples=3 needs; use image size 24 or 32 \(a multiple of 8\), "
        r"downsamples <= 2, or leave downsamples unset",
    ) as err:
        build(name, (1, 28, 28), 4, {"widths": [2, 2, 2], "downsamples": 3})
    one_line(err)


def test_non_square_size_error() -> None:
    with pytest.raises(
        UserError,
        match=r"image size 12x20 is not divisible by 2\*\*3 = 8.*height and width "
        r"that are multiples of 8, downsamples <= 2",
    ):
        build_encoder("conv", (1, 12, 20), 4, {"downsamples": 3})


@pytest.mark.parametrize("name", NETS.list())
def test_unknown_option_is_a_type_error_naming_it(name) -> None:
    with pytest.raises(TypeError, match="widht"):
        build_encoder(name, (1, 8, 8), 4, {"widht": [8]})


@pytest.mark.parametrize("widths", [[], [0, 4], [2.5], "32", [True], None, 32])
@pytest.mark.parametrize("name", CONV_NETS)
def test_bad_widths(name: str, widths: object) -> None:
    with pytest.raises(
        UserError, match=r"widths must be a non-empty list of integers >= 1, got "
    ) as err:
        build_encoder(name, (1, 8, 8), 4, {"widths": widths})
    one_line(err)


@pytest.mark.parametrize("name", NETS.list())
def test_latent_dim_must_be_positive(name: str) -> None:
    with pytest.raises(UserError, match=r"latent_dim must be an integer >= 1, got 0"):
        build_decoder(name, (1, 8, 8), 0)


@pytest.mark.parametrize("name", NETS.list())
@pytest.mark.parametrize("bad", [0, -3, 2.0, True])
def test_out_features_must_be_positive(name: str, bad: object) -> None:
    with pytest.raises(UserError, match=r"out_features must be an integer >= 1, got "):
        build_encoder(name, (1, 8, 8), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", NETS.list())
@pytest.mark.parametrize("shape", [(28, 28), (1, 0, 8), "1x28x28", None])
def test_bad_image_shape(name: str, shape: object) -> None:
    with pytest.raises(UserError, match=r"input_shape must be \(C, H, W\), a list of 3 integers >= 1, got "):
        build_encoder(name, shape, 4)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"output_shape must be \(C, H, W\), a list of 3 integers >= 1, got "):
        build_decoder(name, shape, 4)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("conv", {"norm": "layer"}, r"norm must be one of 'batch', 'group', 'none', got 'layer'"),
        ("resnet", {"activation": "rleu"}, r"activation must be one of .*'relu'.*, got 'rleu'"),
        ("mlp", {"activation": "swish"}, r"activation must be one of .*'silu'.*, got 'swish'"),
        ("mlp", {"hidden": [64, 0]}, r"hidden must be a list of integers >= 1, got \[64, 0\]"),
        ("conv", {"blocks_per_stage": -1}, r"blocks_per_stage must be an integer >= 0 or a list of 3 integers >= 0"),
        ("resnet", {"blocks_per_stage": 0}, r"blocks_per_stage must be an integer >= 1 or a list of 3 integers >= 1"),
        (
            "resnet",
            {"blocks_per_stage": [1, 2]},
            r"list of 3 integers >= 1 \(one per entry of widths\), got \[1, 2\]",
        ),
        (
            "conv",
            {"downsamples": 4},
            r"downsamples must be null \(automatic\) or an integer in \[0, 3\] \(at most one per entry of widths\)",
        ),
        ("conv", {"widths": [8], "downsamples": -1}, r"an integer in \[0, 1\] .*got -1"),
    ],
)
def test_bad_option_values(name: str, options: dict, message: str) -> None:
    for build in (build_encoder, build_decoder):
        with pytest.raises(UserError, match=message) as err:
            build(name, (1, 16, 16), 4, options)
        one_line(err)


def test_unknown_net_name_lists_known() -> None:
    with pytest.raises(UserError, match=r"unknown net 'cnn'.*Known: conv, mlp, resnet"):
        build_encoder("cnn", (1, 8, 8), 4)
    with pytest.raises(UserError, match=r"unknown net 'resnt'.*Did you mean 'resnet'"):
        build_decoder("resnt", (1, 8, 8), 4)


def test_options_object_is_used_as_given() -> None:
    net = ConvNet(widths=[4])
    assert build_encoder("conv", (1, 8, 8), 4, net).feature_shape == (4, 4, 4)


@pytest.mark.parametrize("name", NETS.list())
def test_wrong_input_at_forward_says_what_was_expected(name: str) -> None:
    enc = build_encoder(name, (1, 8, 8), 4, {"widths": [2]} if name != "mlp" else {"hidden": [4]})
    with pytest.raises(
        UserError,
        match=r"built for images of shape \(B, 1, 8, 8\), got \(2, 3, 8, 8\); "
        r"build it with input_shape=\(3, 8, 8\)",
    ):
        enc(torch.rand(2, 3, 8, 8))
    dec = build_decoder(name, (1, 8, 8), 4, {"widths": [2]} if name != "mlp" else {"hidden": [4]})
    with pytest.raises(UserError, match=r"built for codes of shape \(B, 4\), got \(2, 5\)"):
        dec(torch.rand(2, 5))
