"""Commands generated from typed functions (autoenc.cli._generate): options are the parameters,
help comes from the docstring, -c/--print_config everywhere, fit's --data.* options."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Literal

import pytest
import yaml

from autoenc.cli._generate import Generated, data_options
from autoenc.cli.main import COMMANDS, main
from autoenc.core.errors import UserError

HAND_WRITTEN = {"fit", "validate"}  # LightningCLI itself


def generated() -> dict[str, Generated]:
    return {name: cmd.load() for name, cmd in COMMANDS._items.items() if name not in HAND_WRITTEN}


def test_every_other_command_is_generated_from_a_documented_function() -> None:
    commands = generated()
    assert {"id", "features", "probe", "report", "reconstruct", "traverse", "sample", "interpolate", "latent-map",
            "preview", "sources", "disentangle"} <= set(commands)
    for name, command in commands.items():
        assert isinstance(command, Generated), name
        text = " ".join(command.parser().format_help().split())
        assert "-c CONFIG, --config CONFIG" in text and "--print_config" in text, name
        for param in inspect.signature(command.function).parameters:
            if param not in command.positional and param != "data":
                assert f"--{param} " in text, (name, param)  # the Python name, underscores kept
        assert (command.data is not None) == ("--data.source SOURCE" in text), name


def _double(value: int, *, twice: bool = True, mode: Literal["a", "b"] = "a", out: Path | None = None) -> int:
    """Print a number, maybe doubled.

    Args:
        value: the number.
        twice: double it.
        mode: a choice.
        out: a path.
    """
    print(value * (2 if twice else 1), mode)
    return 0


DOUBLE = Generated(_double, "autoenc double", positional=("value",))


def test_types_choices_help_and_config(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert DOUBLE(["3", "--twice", "false", "--mode", "b"]) == 0
    assert capsys.readouterr().out == "3 b\n"
    text = " ".join(DOUBLE.parser().format_help().split())
    assert "Print a number, maybe doubled." in text and "--mode {a,b} a choice." in text
    with pytest.raises(SystemExit):
        DOUBLE(["4", "--mode", "b", "--print_config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == {"value": 4, "twice": True, "mode": "b", "out": None}
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"twice": False, "mode": "b"}))
    assert DOUBLE(["-c", str(config), "5"]) == 0
    assert capsys.readouterr().out == "5 b\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["x"], r"^value: expected int; got x \(see `autoenc double --help`\)$"),
    (["1", "--mode", "c"], r"^mode: expected one of 'a', 'b'; got c"),
    (["1", "--bogus", "2"], r"^unrecognized arguments: --bogus 2"),
    ([], r"required: value"),
])
def test_parse_errors_are_one_user_error_line(argv: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message) as err:
        DOUBLE(argv)
    assert "\n" not in str(err.value)


def test_parse_errors_through_main_exit_2_with_one_line(capsys: pytest.CaptureFixture) -> None:
    assert main(["probe", "c", "--kind", "svm"]) == 2
    err = capsys.readouterr().err
    assert err == ("autoenc probe: error: kind: expected one of 'linear', 'knn'; got svm "
                   "(see `autoenc probe --help`)\n")


@pytest.mark.parametrize(("argv", "data"), [
    (["RUN", "--out", "o"], []),
    (["--data.image_size", "8", "RUN"], ["--data.image_size", "8"]),
    (["--data.subset=5", "RUN", "--out", "o"], ["--data.subset=5"]),
    (["-c", "c.yaml", "--data.source.init_args.root", "d", "RUN"], ["--data.source.init_args.root", "d"]),
    (["RUN", "--data.source", "image_folder", "--data.source.init_args.root", "d"],
     ["--data.source", "ImageFolder", "--data.source.init_args.root", "d"]),
    (["--data.source", "image_folder", "--data.source", "digits"], ["--data.source", "image_folder",
                                                                       "--data.source", "digits"]),
])
def test_data_options_are_found_and_source_names_become_classes_before_their_options(argv, data) -> None:
    ready, found = data_options(argv)
    assert found == data and [a for a in ready if a not in found] == [a for a in argv if a not in data
                                                                       and a not in ("image_folder",)]


def test_data_options_print_as_a_fit_data_section(capsys: pytest.CaptureFixture) -> None:
    assert main(["id", "--data.source", "digits", "--data.image_size", "16", "--out", "o", "--print_config"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)["data"]
    assert data["source"] == "digits" and data["image_size"] == 16 and data["num_workers"] == 0


def test_every_command_parameter_declares_its_constraints() -> None:
    """scikit-learn's rule: a parameter without declared constraints fails here (``data`` is
    ImageDataModule's own, checked by its constructor)."""
    for name, command in generated().items():
        declared = set(command.params)
        parameters = set(inspect.signature(command.function).parameters) - {"data"}
        assert declared == parameters, (name, parameters ^ declared)


def test_constraints_are_checked_before_the_command_runs(capsys: pytest.CaptureFixture) -> None:
    assert main(["sweep", "missing.yaml", "--latent_dims", "2", "--jobs", "0"]) == 2  # not "missing.yaml not found"
    assert capsys.readouterr().err == "autoenc sweep: error: --jobs must be an integer >= 1, got 0\n"


@pytest.mark.parametrize("spelling", ["0,3", "[0,3]", "[0, 3]"])
def test_one_list_spelling_everywhere(spelling: str) -> None:
    for name, option in (("traverse", "dims"), ("reconstruct", "indices"), ("sweep", "latent_dims")):
        command = generated()[name]
        argv = ["x.yaml", "--latent_dims", spelling] if name == "sweep" else ["run", f"--{option}", spelling]
        assert command.parse(argv)[option] == [0, 3], name
    assert generated()["id"].parse(["--out", "o", "--estimators", "twonn,mle"])["estimators"] == ["twonn", "mle"]


def test_help_of_every_generated_command_does_not_import_torch() -> None:
    """One subprocess for all (every command but fit / validate, which are LightningCLI): the
    data options are described from ImageDataModule's source text, not its imported signature."""
    import subprocess
    import sys

    names = list(generated())
    assert {"probe", "sources", "sweep", "reconstruct", "features", "id", "disentangle"} <= set(names)
    code = ("import contextlib, io, sys\nfrom autoenc.cli.main import main\n"
            f"for name in {names!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "        assert main([name, '--help']) == 0 and '--print_config' in out.getvalue(), name\n"
            "print(sorted(m for m in ('torch', 'lightning') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().endswith("[]"), out.stdout


def test_python_dash_m_autoenc_runs_the_command() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "autoenc", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("usage: autoenc COMMAND") and "sources" in out.stdout
