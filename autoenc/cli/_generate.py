"""Subcommands built by jsonargparse from the typed signature of the function they call.

A command is a typed function with a docstring (``Args:`` section); :class:`Generated` makes it
the jsonargparse subcommand ``autoenc NAME`` (``ArgumentParser.add_subcommands``): option names
are the parameter names (``--batch_size``, as ``autoenc fit`` spells ``--ckpt_path``), types
and ``Literal`` choices are checked while parsing, ``--help`` comes from the docstring,
``-c/--config FILE`` and ``--print_config`` are on every command. A command that reads images
gets the ``--data.*`` options of :class:`~autoenc.data.module.ImageDataModule`, exactly as
``autoenc fit`` has them (``--data.source digits``, ``--data.source.init_args.root DIR``,
``--data.image_size 16``, ``--data data.yaml``; a whole fit config there stands for its
``data:`` section).

When the command reads a run (a checkpoint or run directory), the run's recorded data options
are the defaults of ``--data.*``: only the options given override them. The run is read from a
first parse without the data options (they may only make sense over the run's). The function
receives ``data=None`` when no data option is given (the run's own data, or none), else the
instantiated module. Every parse error is one line (:func:`~autoenc.core.config_errors.one_line_error`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from autoenc.cli import option_checks as _checks  # noqa: F401 (registers the list types of the options)
from autoenc.core.config_errors import NOT_FINITE, one_line_error, unrecognized_option
from autoenc.core.constraints import Constraint, check_param, describe
from autoenc.core.errors import UserError, find_user_error

DATA = "data"


@dataclass(frozen=True)
class Generated:
    """The subcommand ``prog`` generated from ``function``.

    Attributes:
        function: the typed function the command calls with the parsed options as keywords;
            returns an exit code or None (0).
        prog: the command line's name, e.g. ``"autoenc id"``.
        positional: parameters given by position (the main input), in order; one with a
            default may be left out.
        run: the positional naming a checkpoint or run directory, whose recorded data
            options are the defaults of ``--data.*``.
        data: ``"optional"``: ``function`` gets ``data=None`` unless a data option is given;
            ``"always"``: it always gets a module; None: no data options.
        data_defaults: this command's defaults of ``--data.*`` (over the run's).
        params: the constraints of every parameter but ``data`` (:mod:`autoenc.cli.option_checks`),
            checked before ``function`` runs.
    """

    function: Callable[..., int | None]
    prog: str
    positional: tuple[str, ...] = ()
    run: str | None = None
    data: Literal["optional", "always"] | None = None
    data_defaults: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Sequence[Constraint]] = field(default_factory=dict)

    def __call__(self, argv: list[str]) -> int:
        kwargs = self.parse(argv)
        for name, constraints in self.params.items():
            check_param(f"--{name}", constraints, kwargs[name])
        return int(self.function(**kwargs) or 0)

    def parser(self, data_defaults: Mapping[str, Any] | None = None, for_help: bool = False) -> Any:
        """The jsonargparse ``ArgumentParser`` of this command (``data_defaults``: those of
        ``--data.*``, default :attr:`data_defaults`; ``for_help``: the data options described
        from ImageDataModule's source text, so ``--help`` imports no torch)."""
        from jsonargparse import ActionConfigFile, ArgumentParser

        doc = _docstring(self.function)
        description = "\n\n".join(filter(None, [doc.short_description, doc.long_description]))
        parser = ArgumentParser(prog=self.prog, description=description or None, exit_on_error=False)
        parser.add_argument("-c", "--config", action=ActionConfigFile, help="options from a YAML file")
        signature = inspect.signature(self.function)
        hints = _hints(self.function, with_data=self.data is not None and not for_help)
        for name in self.positional:  # the main input, by position; optional when it has a default
            default = signature.parameters[name].default
            optional = {} if default is inspect.Parameter.empty else {"nargs": "?", "default": default}
            hint = hints[name]
            if getattr(hint, "__origin__", None) is list:  # list[X] by position: one or more X
                hint, optional = hint.__args__[0], {"nargs": "+"}
            parser.add_argument(name, type=hint, help=_param_help(doc, name), **optional)
        if for_help and self.data is not None:  # jsonargparse would resolve data's type: torch
            for name, param in signature.parameters.items():
                if name not in (DATA, *self.positional):
                    parser.add_argument(f"--{name}", type=hints[name], default=param.default,
                                        help=_param_help(doc, name))
            _describe_data_options(parser)
            return parser
        parser.add_function_arguments(self.function, as_group=False, skip={DATA, *self.positional})
        if self.data is not None:
            from autoenc.data.module import ImageDataModule

            parser.add_class_arguments(ImageDataModule, DATA, sub_configs=True)
            defaults = self.data_defaults if data_defaults is None else data_defaults
            if defaults:
                parser.set_defaults({f"{DATA}.{k}": v for k, v in defaults.items()})
        return parser

    def parse(self, argv: list[str]) -> dict[str, Any]:
        """``argv`` -> the keyword arguments of :attr:`function` (data module instantiated).

        Raises:
            UserError: a bad option or value (one line naming it).
        """
        if self.data is not None and ({"-h", "--help"} & set(argv)):
            _parse(self, self.parser(for_help=True), ["--help"])  # prints the help, exits 0
        argv, given = data_options(argv) if self.data is not None else (list(argv), [])
        defaults = dict(self.data_defaults)
        if self.run is not None and self.data is not None:
            rest = [a for a in argv if a not in given and not a.startswith("--print_config")]
            run = _parse(self, self.parser(), rest).get(self.run)
            section = run_data_section(run) if run is not None else None
            if section is None and given and run is not None and not _names_something(str(run)):
                raise UserError(f"{self.run} {str(run)!r}: no such file or directory")
            defaults = {**(section or {}), **defaults}
        try:
            parser = self.parser(defaults)
        except (ValueError, TypeError, KeyError) as err:  # a run recorded options no longer valid
            raise UserError(f"the data options the run records do not parse: {one_line_error(err)}; "
                            "give the data options explicitly (--data FILE)") from None
        cfg = _parse(self, parser, argv)
        kwargs = {name: cfg.get(name) for name in inspect.signature(self.function).parameters if name != DATA}
        if self.data is not None:
            wanted = self.data == "always" or bool(given) or DATA in _parse(self, parser, argv, defaults=False)
            kwargs[DATA] = _instantiate_data(parser, cfg) if wanted else None
        return kwargs


def _parse(command: Generated, parser: Any, argv: list[str], **kwargs: Any) -> Any:
    """``argv`` parsed as the subcommand ``autoenc NAME`` (jsonargparse's subcommands) -> its
    namespace."""
    from jsonargparse import ArgumentError, ArgumentParser

    name = command.prog.split()[-1]
    top = ArgumentParser(prog=command.prog.rsplit(" ", 1)[0], exit_on_error=False)
    top.add_subcommands(required=True).add_subcommand(name, parser)
    try:
        return top.parse_args([name, *argv], **kwargs)[name]
    except (ArgumentError, ValueError, TypeError, KeyError) as err:
        known = [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]
        message = unrecognized_option(one_line_error(err), known)
        if message.startswith("the following arguments are required:"):  # named inside the subcommand
            message = message.replace(f" {name}.", " ").replace(f",{name}.", ",")
        key = message.partition(":")[0]
        if message.endswith(NOT_FINITE) and key in command.params:  # say what the option takes
            message = f"{message[: -len(NOT_FINITE)]}; --{key} must be {describe(command.params[key])}"
        raise UserError(f"{message} (see `{command.prog} --help`)") from None


def _names_something(run: str) -> bool:
    """Whether ``run`` exists, or names an encoder not on disk (``torchvision:resnet18``)."""
    return Path(run).expanduser().exists() or (":" in run and not Path(run).is_absolute())


def instantiate_datamodule(section: Mapping[str, Any]) -> Any:
    """The :class:`~autoenc.data.module.ImageDataModule` a plain ``data:`` mapping describes,
    built by jsonargparse as ``autoenc fit`` builds it (types checked, unknown keys refused).

    Raises:
        UserError: a bad key or value (one line).
    """
    from jsonargparse import ArgumentError, ArgumentParser

    from autoenc.data.module import ImageDataModule

    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(ImageDataModule, DATA)
    try:
        cfg = parser.parse_object({DATA: dict(section)})
    except (ArgumentError, ValueError, TypeError, KeyError) as err:
        raise UserError(one_line_error(err)) from None
    return _instantiate_data(parser, cfg)


def _instantiate_data(parser: Any, cfg: Any) -> Any:
    from jsonargparse import ArgumentError

    try:
        instantiate = getattr(parser, "instantiate", None) or parser.instantiate_classes  # < 4.49
        return instantiate(cfg)[DATA]
    except (ArgumentError, ValueError, TypeError, KeyError, AttributeError) as err:
        cause = find_user_error(err)  # constructors' UserErrors arrive wrapped by jsonargparse
        if cause is not None:
            raise type(cause)(one_line_error(cause)) from None
        raise UserError(one_line_error(err)) from None


def data_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """(``argv`` made ready for jsonargparse, the ``--data*`` tokens in it). Every data option
    takes one value (``--data.X VALUE`` or ``--data.X=VALUE``). Two spellings are translated:
    ``--data FILE`` naming a whole ``autoenc fit`` config -> its ``data:`` section; a source's
    registry name followed by options of it (``--data.source image_folder
    --data.source.init_args.root DIR``) -> its class, which those options need."""
    out, data = list(argv), []
    i = 0
    while i < len(out):
        token = out[i]
        option, equals, value = token.partition("=")
        if option == "--data" or option.startswith("--data."):
            has_value = bool(equals) or i + 1 < len(out)
            if not equals and has_value:
                value = out[i + 1]
            if option == "--data" and has_value:
                value = _data_section_of(value)
            elif option == "--data.source" and has_value:
                value = _source_class(value, out[i + (1 if equals else 2):])
            if equals:
                out[i] = f"{option}={value}"
                data.append(out[i])
            elif has_value:
                out[i + 1] = value
                data += out[i : i + 2]
                i += 1
            else:
                data.append(token)
        i += 1
    return out, data


def _source_class(name: str, rest: list[str]) -> str:
    """A source's class name for its registry name when options of it follow (before another
    ``--data.source``), else ``name`` unchanged."""
    for token in rest:
        if token.split("=", 1)[0] == "--data.source":
            break
        if token.startswith("--data.source.init_args."):
            from autoenc.data import SOURCES

            return SOURCES.get(name).__name__ if name in SOURCES else name
    return name


def _data_section_of(value: str) -> str:
    """``--data VALUE``: a fit config's data section (inline), or VALUE for jsonargparse to read;
    a source name or a missing file is refused with what to write instead."""
    import yaml

    from autoenc.training.fit import read_yaml

    path = Path(value).expanduser()
    if not path.is_file():
        from autoenc.data import SOURCES

        if value in SOURCES:
            raise UserError(f"--data takes a YAML file (a data section or a fit config); for the source {value!r} "
                            f"write --data.source {value}")
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            raise UserError(f"--data: no such file {value!r}; give a data section or a fit config (YAML)")
        return value
    config = read_yaml(path)
    if not isinstance(config, dict):
        raise UserError(f"--data: {value!r} must hold a mapping (a data section or a fit config), "
                        f"got {type(config).__name__}")
    if DATA not in config:
        return value
    section = config[DATA]
    if isinstance(section, dict) and "init_args" in section and "source" not in section:
        section = section["init_args"]  # data: {class_path: ...ImageDataModule, init_args: {...}}
    return yaml.safe_dump(section, default_flow_style=True).strip()


def run_data_section(run: Any) -> dict[str, Any] | None:
    """A checkpoint's (or run directory's) recorded data options as ``--data.*`` values
    (``source`` as class_path + init_args, so ``--data.source.init_args.X`` edits it); None
    when ``run`` is no readable autoenc checkpoint (the command then says what is wrong)."""
    from autoenc.core.errors import CheckpointError

    try:
        path = Path(str(run)).expanduser()
        if not path.exists():
            return None
        from autoenc.runs.checkpoints import datamodule_config, resolve_checkpoint

        hp = datamodule_config(resolve_checkpoint(path))
    except (UserError, CheckpointError, OSError, ValueError):
        return None
    if not hp or not isinstance(hp.get("source"), dict) or "name" not in hp["source"]:
        return None
    from autoenc.data import SOURCES
    from autoenc.data.module import ImageDataModule

    known = inspect.signature(ImageDataModule.__init__).parameters  # older checkpoints may record more
    section = {k: v for k, v in hp.items() if k in known and k != "self"}
    cls = SOURCES.get(section["source"]["name"])
    section["source"] = {"class_path": f"{cls.__module__}.{cls.__qualname__}",
                         "init_args": dict(section["source"].get("options") or {})}
    return section


def _docstring(function: Callable[..., Any]) -> Any:
    import docstring_parser

    return docstring_parser.parse(inspect.getdoc(function) or "")


def _param_help(doc: Any, name: str) -> str | None:
    return next((p.description for p in doc.params if p.arg_name == name), None)


def _describe_data_options(parser: Any) -> None:
    """``--data.*`` for ``--help`` only: ImageDataModule's parameters, defaults and docstring read
    from its source file (importing it imports torch and Lightning: seconds per command)."""
    import ast

    import docstring_parser

    # the file itself: finding the module's spec would import its package (every source: torch)
    tree = ast.parse((Path(__file__).resolve().parents[1] / "data" / "module.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ImageDataModule")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    docs = {p.arg_name: p.description for p in docstring_parser.parse(ast.get_docstring(cls) or "").params}
    args = init.args.args[1:]
    defaults = [None] * (len(args) - len(init.args.defaults)) + list(init.args.defaults)
    group = parser.add_argument_group("data options (default: the run's own data; as `autoenc fit` takes them)")
    group.add_argument(f"--{DATA}", help="a YAML file: a data section or a whole fit config")
    for arg, default in zip(args, defaults, strict=True):
        kind = ast.unparse(arg.annotation) if arg.annotation is not None else "any"
        value = ast.unparse(default) if default is not None else "required"
        group.add_argument(f"--{DATA}.{arg.arg}", metavar=kind.upper().replace(" ", ""),
                           help=f"{docs.get(arg.arg, '')} (default: {value})")


def _hints(function: Callable[..., Any], with_data: bool) -> dict[str, Any]:
    """The resolved annotations of ``function``; ``data: ImageDataModule`` may be imported
    only for type checkers in its module (torch is not needed to list its options)."""
    import typing

    local: dict[str, Any] = {"ImageDataModule": Any}  # --help describes the data options instead
    if with_data:
        from autoenc.data.module import ImageDataModule

        local["ImageDataModule"] = ImageDataModule
    return typing.get_type_hints(function, localns=local)
