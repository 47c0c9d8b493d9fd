"""Submodules on first use (PEP 562): ``autoenc.measure.disentanglement.mig`` works after a plain
``import autoenc``, and importing a package imports none of its heavy modules."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
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
