"""``autoenc sources``: the registered data sources, their options and defaults.

Its own module: a command without data options answers ``--help`` without importing torch.
"""

from __future__ import annotations

import inspect

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import NAME
from autoenc.core.errors import UserError


def list_sources(pattern: str = "*") -> int:
    """List the registered data sources, their options and defaults.

    Args:
        pattern: shell-style name filter.
    """
    print(describe_sources(pattern))
    return 0


sources = Generated(list_sources, "autoenc sources", positional=("pattern",), params={"pattern": [NAME]})


def describe_sources(pattern: str = "*") -> str:
    """Text listing every source whose name matches ``pattern``: name, class path, the first
    paragraph of its docstring, and its options as ``name: type = default``."""
    from autoenc.data import SOURCES

    names = SOURCES.list(pattern)
    if not names:
        raise UserError(f"no data source matches {pattern!r}; known: {', '.join(SOURCES.list())}")
    blocks = []
    for name in names:
        cls = SOURCES.get(name)
        lines = [f"{name}  ({_public_path(cls)})", f"    {summary(cls)}"]
        options = source_options(cls)
        lines += [f"      {o}" for o in options] if options else ["      (no options)"]
        blocks.append("\n".join(lines))
    footer = ("Use one with `--data.source NAME`, or `--data.source CLASS --data.source.init_args.OPTION VALUE`, "
              "or in a config:\n  data:\n    source:\n      class_path: CLASS\n      init_args: {OPTION: VALUE}")
    return "\n\n".join([*blocks, footer])


def summary(cls: type) -> str:
    """The first paragraph of ``cls``'s docstring, on one line."""
    doc = inspect.getdoc(cls) or ""
    first = doc.split("\n\n", 1)[0].replace("``", "")
    return " ".join(first.split()) or "(no description)"


def source_options(cls: type) -> list[str]:
    """Constructor options of a source class as ``"name: type = default"`` strings."""
    out = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        text = p.name
        if p.annotation is not p.empty:
            text += f": {p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation)}"
        text += " (required)" if p.default is p.empty else f" = {p.default!r}"
        out.append(text)
    return out


def _public_path(cls: type) -> str:
    """``autoenc.data.MNIST`` when the package exports the class, else its module path."""
    import autoenc.data as package

    if getattr(package, cls.__name__, None) is cls:
        return f"autoenc.data.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"
