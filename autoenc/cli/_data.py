"""``--data`` and ``--set`` for every command that reads images: one way to name a dataset.

``--data`` is a source name (``digits``, ``mnist``, ... see ``autoenc sources``) or a YAML
file: a whole ``autoenc fit`` config (its ``data:`` section is used) or a bare data section.
``--set KEY=VALUE`` (repeatable, applied in order) overrides one option of that section;
values are YAML (``16``, ``null``, ``[0, 1]``, ``true``). Keys are those of the ``data:``
section, dotted, with two shortcuts:

* ``source.OPTION`` means ``source.init_args.OPTION`` (``--set source.root=~/datasets``);
* a leading ``data.`` is dropped, so keys copied from a fit config work as they are.

``--set source=NAME`` switches the source (dropping its previous options).

The module is built by jsonargparse exactly as ``autoenc fit`` builds it, so types are
checked and unknown keys refused the same way; errors come back as one line.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoenc.cli._config import find_user_error, one_line_error
from autoenc.errors import UserError

if TYPE_CHECKING:
    from autoenc.data import ImageDataModule

_SOURCE_META = ("class_path", "init_args", "dict_kwargs")


def add_data_arguments(parser: argparse.ArgumentParser, default: str = "digits") -> None:
    """Add ``--data SOURCE|YAML`` and repeatable ``--set KEY=VALUE`` to ``parser``."""
    parser.add_argument(
        "--data", default=default, metavar="SOURCE|YAML",
        help=f"a data source name (see `autoenc sources`) or a YAML file: an `autoenc fit` config "
             f"(its data: section) or a bare data section (default: {default})")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a data option, e.g. image_size=16, subset=500, source.root=data "
             "(short for source.init_args.root), source=mnist; repeatable; values are YAML")


def build_datamodule(args: argparse.Namespace, **defaults: Any) -> ImageDataModule:
    """The :class:`~autoenc.data.ImageDataModule` that ``args.data`` and ``args.overrides``
    describe. ``defaults`` fill data options neither of them sets (e.g. ``num_workers=0``).

    Raises:
        UserError: unknown source, unreadable YAML, bad key or value (one line).
    """
    section = data_section(args.data)
    for key, value in defaults.items():
        section.setdefault(key, value)
    for item in getattr(args, "overrides", None) or []:
        apply_override(section, item)
    return instantiate_datamodule(section)


def data_section(spec: str) -> dict[str, Any]:
    """``spec`` (a source name or a YAML path) -> the plain ``data:`` mapping it stands for."""
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        return _section_from_yaml(path)
    from autoenc.data import SOURCES

    SOURCES.get(spec)  # unknown name: one line listing the known ones
    return {"source": _source_mapping(spec)}


def _section_from_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise UserError(f"--data: no such file {str(path)!r}; give a YAML config or a source name "
                        "(see `autoenc sources`)")
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        reason = " ".join(str(err).split())
        raise UserError(f"--data: cannot read {str(path)!r} as YAML ({reason})") from None
    if not isinstance(config, dict):
        raise UserError(f"--data: {str(path)!r} must hold a mapping (a config with a data: section, "
                        f"or a data section), got {type(config).__name__}")
    if "data" in config:
        section = config["data"]
        if isinstance(section, dict) and "init_args" in section and "source" not in section:
            section = section["init_args"]  # data: {class_path: ...ImageDataModule, init_args: {...}}
        if not isinstance(section, dict):
            raise UserError(f"--data: the data: section of {str(path)!r} must be a mapping, got {section!r}")
        return dict(section)
    known = _module_options()
    unknown = sorted(set(config) - known)
    if unknown:
        raise UserError(
            f"--data: {str(path)!r} has no data: section and is not a data section either "
            f"(unknown keys {', '.join(unknown)}; a data section has {', '.join(sorted(known))})")
    return dict(config)


def _module_options() -> set[str]:
    from autoenc.data import ImageDataModule

    params = inspect.signature(ImageDataModule.__init__).parameters
    return {name for name in params if name != "self"}


def _source_mapping(name: str) -> dict[str, Any]:
    """Registry name -> ``{class_path, init_args}``, so ``source.OPTION`` overrides apply."""
    from autoenc.data import SOURCES

    cls = SOURCES.get(name)
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": {}}


def apply_override(section: dict[str, Any], item: str) -> None:
    """Apply one ``KEY=VALUE`` (see the module docstring) to the data ``section`` in place."""
    import yaml

    key, sep, text = item.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not sep or not all(parts):
        raise UserError(f"--set expects KEY=VALUE (e.g. image_size=16 or source.root=data), got {item!r}")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text  # not YAML: the text itself (e.g. a path with a colon)
    if parts[0] == "data" and len(parts) > 1:
        parts = parts[1:]
    if parts == ["source"]:
        if isinstance(value, str):
            from autoenc.data import SOURCES

            value = _source_mapping(value) if value in SOURCES else value
        section["source"] = value
        return
    if parts[0] == "source":
        source = section.get("source", "digits")
        if isinstance(source, str):
            source = _source_mapping(source)
        if not isinstance(source, dict):
            raise UserError(f"--set {key}: data.source is {source!r}, not a mapping with init_args")
        section["source"] = source = dict(source)
        if parts[1] not in _SOURCE_META:
            parts = ["source", "init_args", *parts[1:]]
    node = section
    for part in parts[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    node[parts[-1]] = value


def instantiate_datamodule(section: dict[str, Any]) -> ImageDataModule:
    """Build the module from a plain ``data:`` mapping through jsonargparse, as ``autoenc fit``
    does (types checked, unknown keys refused). Errors become one-line UserErrors."""
    from jsonargparse import ArgumentParser

    from autoenc.data import ImageDataModule

    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(ImageDataModule, "data")
    try:
        config = parser.parse_object({"data": section})
        instantiate = getattr(parser, "instantiate", None) or parser.instantiate_classes
        return instantiate(config).data
    except (ValueError, TypeError, KeyError, AttributeError, argparse.ArgumentError) as err:
        # jsonargparse's ArgumentError is argparse's; constructors' UserErrors arrive wrapped.
        cause = find_user_error(err)
        if cause is not None:
            raise type(cause)(one_line_error(cause)) from None
        raise UserError(one_line_error(err)) from None
