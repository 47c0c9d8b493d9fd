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


def check_device(text: str | None, flag: str = "--device") -> str | None:
    """A torch device string this machine has (None passes: the command picks one); a one-line
    error for a malformed name or a device that is not there."""
    if text is None:
        return None
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise UserError(f"{flag} must be a torch device such as cpu, cuda or cuda:1, got {text!r}") from None
    counts = {"cpu": 1, "cuda": torch.cuda.device_count(), "mps": int(torch.backends.mps.is_available())}
    count = counts.get(device.type, 0)
    if count == 0 or (device.index or 0) >= count:
        have = ", ".join(["cpu", *(f"cuda:{i}" for i in range(counts["cuda"])), *(["mps"] * counts["mps"])])
        raise UserError(f"{flag} {text!r}: no such device on this machine; it has {have}")
    return text


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
