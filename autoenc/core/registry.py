"""A name -> object registry: one place to add a component, one error for unknown names.

Registering a name twice raises; looking up an unknown name raises a ``ValueError`` (a
:class:`~autoenc.core.errors.UserError`) that lists the known names, so a typo in a config is
answered with what the user could have typed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from autoenc.core.errors import UserError, closest

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects (usually classes or builder functions) of one kind.

    Args:
        kind: what the registered objects are, used in messages ("encoder", "data source").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name: str, obj: T | None = None):  # type: ignore[no-untyped-def]
        """Register ``obj`` under ``name``; without ``obj``, return a decorator.

        Raises:
            ValueError: ``name`` is already registered.
        """
        if obj is None:
            return lambda item: self.register(name, item)
        self._add(name, obj)
        return obj

    def _add(self, name: str, obj: T) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        """The object registered as ``name``.

        Raises:
            UserError (a ValueError): unknown name; the message lists the known names.
        """
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise UserError(self.unknown_message(name)) from None

    def unknown_message(self, name: object) -> str:
        """One line naming the unknown ``name``, the closest match and all known names."""
        known = ", ".join(sorted(self._items)) or "(none)"
        close = closest(str(name), self._items)
        hint = f" Did you mean {close!r}?" if close else ""
        return f"unknown {self.kind} {name!r}.{hint} Known: {known}"

    def list(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching the shell-style ``pattern``."""
        return sorted(n for n in self._items if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.list()})"
