"""Subcommands generated from the typed signature of the function they call (jsonargparse).

A command is a typed function with a docstring (``Args:`` section); :class:`Generated` turns
it into ``argv -> exit code``: option names are the parameter names (``--batch_size``, as
``autoenc fit`` spells ``--ckpt_path``), types and ``Literal`` choices are checked while
parsing, ``--help`` comes from the docstring, ``-c/--config FILE`` and ``--print_config`` are
on every command. A command that reads images gets the ``--data.*`` options of
:class:`~autoenc.data.module.ImageDataModule`, exactly as ``autoenc fit`` has them
(``--data.source digits``, ``--data.source.init_args.root DIR``, ``--data.image_size 16``,
``--data data.yaml``; a whole fit config there stands for its ``data:`` section).

When the command reads a run (a checkpoint or run directory), the run's recorded data options
are the defaults of ``--data.*``: only the options given override them. The function receives
``data=None`` when no data option is given (the run's own data, or none), else the
instantiated module. Every parse error is one line (:func:`~autoenc.config_errors.one_line_error`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from autoenc.config_errors import find_user_error, one_line_error
from autoenc.errors import UserError

DATA = "data"
#: Options that take no value (every other option takes exactly one, booleans included).
_NO_VALUE = ("-h", "--help")


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
    """

    function: Callable[..., int | None]
    prog: str
    positional: tuple[str, ...] = ()
    run: str | None = None
    data: Literal["optional", "always"] | None = None
    data_defaults: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, argv: list[str]) -> int:
        return int(self.function(**self.parse(argv)) or 0)

    def parser(self) -> Any:
        """The jsonargparse ``ArgumentParser`` of this command."""
        from jsonargparse import ActionConfigFile, ArgumentParser

        doc = _docstring(self.function)
        description = "\n\n".join(filter(None, [doc.short_description, doc.long_description]))
        parser = ArgumentParser(prog=self.prog, description=description or None, exit_on_error=False)
        parser.add_argument("-c", "--config", action=ActionConfigFile, help="options from a YAML file")
        signature = inspect.signature(self.function)
        hints = _hints(self.function, with_data=self.data is not None)
        for name in self.positional:  # the main input, by position; optional when it has a default
            default = signature.parameters[name].default
            optional = {} if default is inspect.Parameter.empty else {"nargs": "?", "default": default}
            hint = hints[name]
            if getattr(hint, "__origin__", None) is list:  # list[X] by position: one or more X
                hint, optional = hint.__args__[0], {"nargs": "+"}
            parser.add_argument(name, type=hint, help=_param_help(doc, name), **optional)
        parser.add_function_arguments(self.function, as_group=False, skip={DATA, *self.positional})
        if self.data is not None:
            from autoenc.data.module import ImageDataModule

            parser.add_class_arguments(ImageDataModule, DATA, sub_configs=True)
            if self.data_defaults:
                parser.set_defaults({f"{DATA}.{k}": v for k, v in self.data_defaults.items()})
        return parser

    def parse(self, argv: list[str]) -> dict[str, Any]:
        """``argv`` -> the keyword arguments of :attr:`function` (data module instantiated).

        Raises:
            UserError: a bad option or value (one line naming it).
        """
        argv = fit_config_data(list(argv)) if self.data is not None else list(argv)
        parser = self.parser()
        cfg = None
        if self.data is not None and self.run is not None:
            run = first_positional(argv)
            if run is None:  # the run may come from a -c config
                cfg = _parse(parser, argv)
                run = cfg.get(self.run)
            section = run_data_section(run) if run is not None else None
            if section is not None:
                try:
                    parser.set_defaults({f"{DATA}.{k}": v for k, v in {**section, **self.data_defaults}.items()})
                except (ValueError, TypeError, KeyError) as err:  # a run recorded options no longer valid
                    raise UserError(f"the data options {run!r} records do not parse: {one_line_error(err)}; "
                                    "give the data options explicitly (--data FILE)") from None
                cfg = None
        if cfg is None:
            cfg = _parse(parser, argv)
        kwargs = {name: cfg.get(name) for name in inspect.signature(self.function).parameters if name != DATA}
        if self.data is not None:
            given = self.data == "always" or _data_given(parser, argv)
            kwargs[DATA] = _instantiate_data(parser, cfg) if given else None
        return kwargs


def _parse(parser: Any, argv: list[str], **kwargs: Any) -> Any:
    from jsonargparse import ArgumentError

    try:
        return parser.parse_args(argv, **kwargs)
    except (ArgumentError, ValueError, TypeError, KeyError) as err:
        raise UserError(f"{one_line_error(err)} (see `{parser.prog} --help`)") from None


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


def _data_given(parser: Any, argv: list[str]) -> bool:
    """Whether ``argv`` (or a config it reads) sets any data option."""
    try:
        return DATA in _parse(parser, argv, defaults=False)
    except UserError:
        return True


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


def first_positional(argv: list[str]) -> str | None:
    """The first positional argument of a generated command's ``argv``: every option takes one
    value (``--opt VALUE`` or ``--opt=VALUE``) but ``-h/--help``, ``--print_config[=flags]``
    and ``--data.source.help``."""
    takes_value = False
    for token in argv:
        if takes_value:
            takes_value = False
        elif token.startswith("-") and len(token) > 1:
            takes_value = not ("=" in token or token in _NO_VALUE or token.startswith("--print_config")
                               or token.endswith(".help"))
        else:
            return token
    return None


def run_data_section(run: Any) -> dict[str, Any] | None:
    """A checkpoint's (or run directory's) recorded data options as ``--data.*`` values
    (``source`` as class_path + init_args, so ``--data.source.init_args.X`` edits it); None
    when ``run`` is no readable autoenc checkpoint (the command then says what is wrong)."""
    from autoenc.errors import CheckpointError

    try:
        path = Path(str(run)).expanduser()
        if not path.exists():
            return None
        from autoenc.training.checkpoints import datamodule_config, resolve_checkpoint

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


def fit_config_data(argv: list[str]) -> list[str]:
    """``--data FILE`` where FILE is a whole ``autoenc fit`` config -> its ``data:`` section
    (given inline), so a training config names the data of every command."""
    out = list(argv)
    for i, token in enumerate(out):
        if token == "--data" and i + 1 < len(out):
            out[i + 1] = _data_section_of(out[i + 1])
        elif token.startswith("--data="):
            out[i] = "--data=" + _data_section_of(token[len("--data="):])
    return out


def _data_section_of(value: str) -> str:
    """``--data VALUE``: a fit config's data section (inline), or VALUE for jsonargparse to read;
    a source name or a missing file is refused with what to write instead."""
    import yaml

    path = Path(value).expanduser()
    if not path.is_file():
        from autoenc.data import SOURCES

        if value in SOURCES:
            raise UserError(f"--data takes a YAML file (a data section or a fit config); for the source {value!r} "
                            f"write --data.source {value}")
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            raise UserError(f"--data: no such file {value!r}; give a data section or a fit config (YAML)")
        return value
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        reason = " ".join(str(err).split())
        raise UserError(f"--data: cannot read {value!r} as YAML ({reason})") from None
    if not isinstance(config, dict):
        raise UserError(f"--data: {value!r} must hold a mapping (a data section or a fit config), "
                        f"got {type(config).__name__}")
    if DATA not in config:
        return value
    section = config[DATA]
    if isinstance(section, dict) and "init_args" in section and "source" not in section:
        section = section["init_args"]  # data: {class_path: ...ImageDataModule, init_args: {...}}
    return yaml.safe_dump(section, default_flow_style=True).strip()


def _docstring(function: Callable[..., Any]) -> Any:
    import docstring_parser

    return docstring_parser.parse(inspect.getdoc(function) or "")


def _param_help(doc: Any, name: str) -> str | None:
    return next((p.description for p in doc.params if p.arg_name == name), None)


def _hints(function: Callable[..., Any], with_data: bool) -> dict[str, Any]:
    """The resolved annotations of ``function``; ``data: ImageDataModule`` may be imported
    only for type checkers in its module (torch is not needed to list its options)."""
    import typing

    local = {}
    if with_data:
        from autoenc.data.module import ImageDataModule

        local["ImageDataModule"] = ImageDataModule
    return typing.get_type_hints(function, localns=local)
