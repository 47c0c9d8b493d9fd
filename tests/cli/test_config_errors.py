"""autoenc.core.config_errors reads jsonargparse's English messages where its exceptions carry no
structure: every message form it reads, produced by the installed jsonargparse (a new version
that words one differently fails here; pyproject.toml bounds the version). The data-module
forms (class_path, init_args, Union subtypes) are in test_data_cli.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonargparse import ActionConfigFile, ArgumentParser

from autoenc.cli.option_checks import Ints
from autoenc.core.config_errors import (
    CONFIG_HINT,
    one_line_error,
    subclass_names,
    unrecognized_option,
)


def _f(*, n: int = 1, rate: float = 0.5, dims: Ints | None = None, name: str = "a") -> None:
    """A function with typed options."""


def parse_error(argv: list[str], subcommand: bool = False) -> Exception:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("-c", "--config", action=ActionConfigFile)
    parser.add_function_arguments(_f, as_group=False)
    if subcommand:
        top = ArgumentParser(exit_on_error=False)
        top.add_subcommands().add_subcommand("cmd", parser)
        parser, argv = top, ["cmd", *argv]
    try:
        parser.parse_args(argv)
    except Exception as err:  # noqa: BLE001 - the error is what we test
        return err
    raise AssertionError(f"{argv} was accepted")


def config(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(("content", "expected"), [
    (b"", f"the config is empty; {CONFIG_HINT}"),
    (b"- 1\n- 2\n", f"the config is not a mapping of options; {CONFIG_HINT}"),
    (b"n: 1: 2\n", f"the config is not YAML (mapping values are not allowed in this context); {CONFIG_HINT}"),
    (b"\x00\x01\xff\xfe", f"the config is not UTF-8 text (a binary file, or UTF-16?); {CONFIG_HINT}"),
    ("n: 2\n".encode("utf-16"), f"the config is not UTF-8 text (a binary file, or UTF-16?); {CONFIG_HINT}"),
])
def test_config_files_that_cannot_be_read(tmp_path: Path, content: bytes, expected: str) -> None:
    line = one_line_error(parse_error(["-c", config(tmp_path, content)]))
    assert line.startswith(expected) and "\n" not in line


@pytest.mark.parametrize(("argv", "expected"), [
    (["--n", "x"], "n: expected int; got x"),
    (["--rate", "nan"], "rate: expected float; got nan, which is not a finite number; give a finite one"),
    (["--rate=-inf"], "rate: expected float; got -inf, which is not a finite number; give a finite one"),
    (["--dims", "a,b"], "dims: expected integers separated by commas, e.g. 2,4 or [2, 4]; got ['a', 'b']"),
])
def test_values(argv: list[str], expected: str) -> None:
    assert one_line_error(parse_error(argv)) == expected


def test_unknown_options(tmp_path: Path) -> None:
    err = parse_error(["--nn", "1"])
    assert unrecognized_option(one_line_error(err), ["--n", "--rate"]) == \
        "unrecognized arguments: --nn 1 (did you mean '--n'?)"
    assert unrecognized_option("something else", ["--n"]) == "something else"
    nested = config(tmp_path, yaml.safe_dump({"data": {"model": 1}}).encode())
    assert one_line_error(parse_error(["-c", nested], subcommand=True)) == "data: unknown option 'model'"
    flat = config(tmp_path, yaml.safe_dump({"bogus": 1}).encode())
    assert one_line_error(parse_error(["-c", flat], subcommand=True)) == "unknown option 'bogus'"


def test_unknown_class_lists_the_known_ones() -> None:
    from autoenc.models.autoencoder_module import AutoencoderModule

    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("--model", type=AutoencoderModule | None)
    try:
        parser.parse_args(["--model", "Autoencodr"])
    except Exception as err:  # noqa: BLE001
        line = one_line_error(err)
    assert line.startswith("model: unknown class 'Autoencodr' (did you mean 'Autoencoder'?); known: Autoencoder, ")
    assert "VariationalAutoencoder" in line and "AutoencoderModule" not in line
    assert subclass_names(["no.such.Module"]) == []
