"""Declared constraints on user-given parameters, checked with one wording everywhere.

In the style of scikit-learn's ``sklearn/utils/_param_validation.py``: a parameter is
declared with a list of constraints, any of which it may satisfy, and a refused value
gives one :class:`~autoenc.core.errors.UserError` line that names the parameter, what it
accepts and the value given::

    check_params({"latent_dim": [Interval(int, 1, None, closed="left")]}, {"latent_dim": 0})
    # UserError: latent_dim must be an integer >= 1, got 0

Wording: ``<name> must be <constraint> or <constraint>, got <value!r>``; a constraint's
``note`` follows it in parentheses ("an integer >= 2 (one item for each split) or null").
Integers exclude ``bool`` (``True`` is not a size); numbers are any real, not ``bool``.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from autoenc.core.errors import UserError

Closed = Literal["left", "right", "both", "neither"]


def show(value: object) -> str:
    """A value as a YAML user writes it: ``null``, ``true``, ``'mss'``, ``0.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


class Constraint:
    """What one parameter may be; ``str()`` is the phrase used in messages.

    Args:
        note: why or what for, shown in parentheses after the phrase.
    """

    def __init__(self, note: str | None = None) -> None:
        self.note = note

    def is_satisfied_by(self, value: object) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        """The phrase without the note ("an integer >= 1")."""
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{self.describe()} ({self.note})" if self.note else self.describe()


class Interval(Constraint):
    """A real or integer in an interval; ``None`` for an unbounded side.

    Args:
        kind: ``int`` (integers) or ``float`` (any real number, integers included).
        left, right: the bounds, or None.
        closed: which bounds belong to the interval.
    """

    def __init__(self, kind: type, left: float | None, right: float | None,
                 closed: Closed = "both", note: str | None = None) -> None:
        super().__init__(note)
        if kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float, got {kind!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def is_satisfied_by(self, value: object) -> bool:
        base = numbers.Integral if self.kind is int else numbers.Real
        if isinstance(value, bool) or not isinstance(value, base):
            return False
        left_in, right_in = self._closed_sides()
        if self.left is not None and not (value >= self.left if left_in else value > self.left):
            return False
        if self.right is not None and not (value <= self.right if right_in else value < self.right):
            return False
        return value == value  # NaN is not a number

    def _closed_sides(self) -> tuple[bool, bool]:
        return self.closed in ("left", "both"), self.closed in ("right", "both")

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        left_in, right_in = self._closed_sides()
        if self.left is not None and self.right is not None:
            return f"{what} in {'[' if left_in else '('}{self.left}, {self.right}{']' if right_in else ')'}"
        if self.left is not None:
            return f"{what} {'>=' if left_in else '>'} {self.left}"
        if self.right is not None:
            return f"{what} {'<=' if right_in else '<'} {self.right}"
        return what


class Options(Constraint):
    """One of the given values (compared by type and value, so ``1`` is not ``True``)."""

    def __init__(self, values: Iterable[object], note: str | None = None) -> None:
        super().__init__(note)
        self.values = tuple(values)

    def is_satisfied_by(self, value: object) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def describe(self) -> str:
        return f"one of {', '.join(show(v) for v in self.values)}"


class Null(Constraint):
    """``None`` (``null`` in YAML), usually "unset: choose automatically"."""

    def is_satisfied_by(self, value: object) -> bool:
        return value is None

    def describe(self) -> str:
        return "null"


class ListOf(Constraint):
    """A list or tuple (not a string) whose items all satisfy ``item``.

    Args:
        item: the constraint on every item.
        length: the exact length, or None.
        non_empty: refuse an empty list (when ``length`` is None).
        label: what the list stands for, said first ("(C, H, W)").
    """

    def __init__(self, item: Constraint, length: int | None = None, non_empty: bool = False,
                 label: str | None = None, note: str | None = None) -> None:
        super().__init__(note)
        self.item, self.length, self.non_empty, self.label = item, length, non_empty, label

    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            return False
        if (self.length is not None and len(value) != self.length) or (self.non_empty and not value):
            return False
        return all(self.item.is_satisfied_by(v) for v in value)

    def describe(self) -> str:
        items = self.item.describe()
        items = items.replace("an integer", "integers", 1).replace("a number", "numbers", 1)
        if self.length is not None:
            phrase = f"a list of {self.length} {items}"
        else:
            phrase = f"a {'non-empty ' if self.non_empty else ''}list of {items}"
        return f"{self.label}, {phrase}" if self.label else phrase


class InstanceOf(Constraint):
    """An instance of ``cls``, described as ``what`` ("a mapping of option name to value")."""

    def __init__(self, cls: type | tuple[type, ...], what: str, note: str | None = None) -> None:
        super().__init__(note)
        self.cls, self.what = cls, what

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, self.cls)

    def describe(self) -> str:
        return self.what


def describe(constraints: Sequence[Constraint]) -> str:
    """"a, b or c" of the constraints' phrases."""
    phrases = [str(c) for c in constraints]
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} or {phrases[-1]}"


def check_param(name: str, constraints: Sequence[Constraint], value: object) -> Any:
    """``value`` if it satisfies one of ``constraints``.

    Raises:
        UserError: "<name> must be <constraints>, got <value!r>".
    """
    if not any(c.is_satisfied_by(value) for c in constraints):
        raise UserError(f"{name} must be {describe(constraints)}, got {value!r}")
    return value


def check_params(constraints: Mapping[str, Sequence[Constraint]], values: Mapping[str, object],
                 owner: str | None = None) -> None:
    """Check every parameter of ``constraints`` in ``values`` (in the declared order).

    Args:
        constraints: parameter name -> the constraints it may satisfy (any one).
        values: parameter name -> the value given.
        owner: said before each name ("patches count must be ..."), when the name alone
            does not say whose parameter it is.

    Raises:
        UserError: for the first refused value, see :func:`check_param`.
    """
    for name, accepted in constraints.items():
        check_param(f"{owner} {name}" if owner else name, accepted, values[name])


def declared_constraints(cls: type) -> dict[str, Sequence[Constraint]]:
    """The constraints ``cls`` and its bases declare for their constructor parameters, in
    class attributes ``parameter_constraints`` (a subclass's entry wins)."""
    declared: dict[str, Sequence[Constraint]] = {}
    for klass in reversed(cls.__mro__):
        declared |= vars(klass).get("parameter_constraints", {})
    return declared


#: Packages whose classes' constructor parameters are theirs to declare, not ours.
FOREIGN_PACKAGES = ("builtins", "lightning", "torch")


def constructor_parameters(cls: type, foreign: tuple[str, ...] = FOREIGN_PACKAGES) -> list[str]:
    """The named parameters a user can give ``cls(...)``: those of its ``__init__`` and, while
    an ``__init__`` passes ``**kwargs`` on, those of the bases' (stopping at classes of the
    ``foreign`` packages, by default Lightning's, torch's and builtins')."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        if klass.__module__.split(".")[0] in foreign:
            break
        params = list(inspect.signature(init).parameters.values())[1:]
        names += [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in names]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


def undeclared_parameters(cls: type) -> list[str]:
    """Constructor parameters of ``cls`` without a declared constraint (scikit-learn's rule:
    a test fails on any). See :func:`declared_constraints`, :func:`constructor_parameters`."""
    declared = declared_constraints(cls)
    return [name for name in constructor_parameters(cls) if name not in declared]


#: Sizes and counts: an integer >= 1.
POSITIVE_INT = Interval(int, 1, None, closed="left")
#: An image shape argument (``input_shape``, ``output_shape``): (C, H, W).
IMAGE_SHAPE = ListOf(POSITIVE_INT, length=3, label="(C, H, W)")
#: A yes / no option.
BOOL = Options((True, False))
#: A seed: any integer.
SEED = Interval(int, None, None)
