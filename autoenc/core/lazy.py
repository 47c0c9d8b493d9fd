"""Submodules on first use (PEP 562): ``autoenc.measure.disentanglement.mig`` works after a plain
``import autoenc``, and importing a package imports none of its heavy modules."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def submodule(package: str, name: str) -> ModuleType:
    """``package.name`` imported now; AttributeError, as for any missing attribute, when there
    is no such submodule (a package's ``__getattr__`` returns this)."""
    if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
        return importlib.import_module(f"{package}.{name}")
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
