"""User-facing errors.

A :class:`UserError` is a mistake the user can fix (a bad option, a missing file, a stale
cache). Its message is one line that says what is wrong and how to fix it. The ``autoenc``
command prints it to stderr and exits with code 2 (``--debug`` shows the traceback).
It subclasses ``ValueError`` so library callers can catch it the usual way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class UserError(ValueError):
    """A problem with the user's input; the message is one actionable line."""


class DataError(UserError):
    """Dataset files missing, corrupt or of the wrong shape."""


class CheckpointError(UserError):
    """A file that is not an autoenc checkpoint / export, or a damaged one."""


class CacheError(UserError):
    """A feature cache that is missing, stale, damaged or in the way."""


class NonFiniteLossError(UserError):
    """Training produced a NaN or infinite loss (raised by the guard callback)."""


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then its cause (or context), that one's, ... each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def find_user_error(exc: BaseException) -> UserError | None:
    """The :class:`UserError` behind ``exc``: itself, or its cause / context (jsonargparse
    wraps errors raised by constructors in its own ValueError)."""
    return next((e for e in chain(exc) if isinstance(e, UserError)), None)


def first_line(err: BaseException) -> str:
    """The first non-empty line of ``err``'s message, or its type's name when it has none
    (an error message shown to a user is one line)."""
    text = str(err).strip()
    return text.splitlines()[0].strip() if text else type(err).__name__


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like ``name`` (a typo's intended spelling), or None."""
    import difflib

    match = difflib.get_close_matches(str(name), list(known), n=1)
    return match[0] if match else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the known name closest to ``name``, or ``""``."""
    match = closest(name, known)
    return f" (did you mean {match!r}?)" if match else ""
