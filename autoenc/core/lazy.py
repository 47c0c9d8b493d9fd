"""Submodules on first use (PEP 562): ``autoenc.measure.disentanglement.mig`` works after a plain
``import autoenc``, and importing a package imports none of its heavy modules."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any


def submodule(package: str, name: str) -> ModuleType:
    """``package.name`` imported now; AttributeError, as for any missing attribute, when there
    is no such submodule (a package's ``__getattr__`` returns this)."""
    if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
        return importlib.import_module(f"{package}.{name}")
    raise AttributeError(f"module {package!r} has no attribute {name!r}")


def exported(package: str, exports: Mapping[str, str], name: str) -> Any:
    """A package's public ``name``, imported on first use: ``exports`` maps each name to the
    module that defines it (``"module"`` or ``"module:attribute"``); other names are submodules."""
    if name not in exports:
        return submodule(package, name)
    module, _, attr = exports[name].partition(":")
    return getattr(importlib.import_module(module), attr or name)


def lazy_api(package: str, exports: Mapping[str, str], namespace: dict[str, Any]
             ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) for its public names ``exports``
    (see :func:`exported`): ``__getattr__, __dir__ = lazy_api(__name__, _EXPORTS, globals())``.
    A name is imported on first use and kept in ``namespace``."""

    def __getattr__(name: str) -> Any:
        value = namespace[name] = exported(package, exports, name)
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *exports])

    return __getattr__, __dir__


def by_module(names: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """``{module: [name, ...]}`` as :func:`exported`'s ``{name: module}``."""
    return {name: module for module, listed in names.items() for name in listed}
