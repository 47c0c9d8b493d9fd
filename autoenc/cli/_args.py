"""argparse with one-line errors: a bad flag raises UserError instead of printing usage."""

from __future__ import annotations

import argparse

from autoenc.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors become :class:`UserError` (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see `{self.prog} --help`)")


def parse_int_list(text: str, what: str = "value") -> list[int]:
    """"2,4,8" -> [2, 4, 8]; a clear error for empty or non-integer items."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UserError(f"{what} must be a comma-separated list of integers, got {text!r}")
    try:
        return [int(t) for t in items]
    except ValueError:
        raise UserError(
            f"{what} must be a comma-separated list of integers, got {text!r}"
        ) from None


def seed(text: str) -> int:
    """argparse ``type`` of a ``--seed``: an integer in [0, 2**32), the range every generator
    we seed accepts (numpy and scikit-learn refuse negative seeds, torch ones >= 2**64)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {value}")
    return value
