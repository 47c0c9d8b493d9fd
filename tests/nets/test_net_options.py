"""Typed net options: jsonargparse checks them and --help lists them, every option has declared
constraints, and checkpoints written before them (encoder: str + net_options: dict) still load."""

from __future__ import annotations

import contextlib
import inspect
import io
from pathlib import Path

import pytest
import torch
from jsonargparse import ArgumentParser

from autoenc.core.errors import UserError
from autoenc.models import Autoencoder, VariationalAutoencoder
from autoenc.nets import NETS, ConvNet, MLPNet, ResNetNet, net_from_config
from autoenc.runs.checkpoints import load_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LEGACY = {"legacy_ae_mlp": MLPNet(hidden=[16]), "legacy_vae_conv": ConvNet(widths=[4, 8]),
          "legacy_dae_resnet": ResNetNet(widths=[2, 4], blocks_per_stage=1)}


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_checkpoints_written_before_typed_options_load_and_give_the_same_outputs(name: str) -> None:
    """tests/fixtures/legacy_*.ckpt were saved by the code before this change (see
    make_legacy_fixtures.py) with their encode / decode outputs."""
    expected = torch.load(FIXTURES / "legacy_outputs.pt", weights_only=True)
    model = load_model(FIXTURES / f"{name}.ckpt")
    assert model.net == LEGACY[name]
    assert "net_options" not in model.hparams and "encoder" not in model.hparams
    with torch.no_grad():  # same weights, same layers: equal up to the summation order of the thread count
        z = model.encode(expected["x"])
        torch.testing.assert_close(z, expected[f"{name}/encode"], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(model.decode(z), expected[f"{name}/decode"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NETS.list())
def test_every_option_has_declared_constraints(name: str) -> None:
    cls = NETS.get(name)
    options = [p for p in inspect.signature(cls).parameters if p != "self"]
    assert options and set(options) == set(cls.PARAMS), f"{cls.__name__}: declare a constraint for each option"


def _parser() -> ArgumentParser:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(VariationalAutoencoder, "model")
    return parser


def test_jsonargparse_builds_the_options_from_a_config() -> None:
    parser = _parser()
    cfg = parser.parse_args(["--model.input_shape=[1,8,8]", "--model.net=ResNetNet", "--model.net.widths=[2,4]",
                             "--model.latent_channels=3"])
    model = parser.instantiate(cfg).model
    assert model.net == ResNetNet(widths=[2, 4]) and model.latent_shape == (3, 4, 4)
    assert net_from_config(model.hparams["net"]) == model.net


@pytest.mark.parametrize("args", [["--model.net=ConvNet", "--model.net.widht=[4]"],
                                  ["--model.net=ConvNet", "--model.net.norm=layer"],
                                  ["--model.net=MLPNet", "--model.net.hidden=many"],
                                  ["--model.net=LinearNet"]])
def test_jsonargparse_refuses_unknown_options_and_wrong_types(args: list[str]) -> None:
    with pytest.raises(Exception, match="model.net"):
        _parser().parse_args(["--model.input_shape=[1,8,8]", *args])


def test_help_lists_every_option_of_a_net() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        _parser().parse_args(["--model.net.help", "ResNetNet"])
    for option in ResNetNet.PARAMS:
        assert f"--model.net.{option}" in out.getvalue()


def test_values_are_checked_by_the_option_class_in_one_line() -> None:
    with pytest.raises(UserError, match=r"^widths must be a non-empty list of integers >= 1, got \[0\]$"):
        ConvNet(widths=[0])
    with pytest.raises(UserError, match=r"net class_path 'Unet' is not a net; known: ConvNet, MLPNet, ResNetNet"):
        Autoencoder((1, 8, 8), net={"class_path": "Unet", "init_args": {}})


def test_a_model_saves_plain_options_and_rebuilds_them(tmp_path: Path) -> None:
    model = Autoencoder((1, 8, 8), latent_dim=2, net=MLPNet(hidden=[4]))
    assert model.hparams["net"] == {"class_path": "autoenc.nets.MLPNet",
                                    "init_args": {"hidden": [4], "activation": "relu"}}
    again = Autoencoder(**model.hparams)
    assert again.net == model.net
    assert Autoencoder((1, 8, 8)).net == ConvNet()
    with pytest.raises(UserError, match="net and the older encoder / net_options describe the same nets"):
        Autoencoder((1, 8, 8), net=ConvNet(), encoder="conv")
