"""Quiet by default: third-party warnings and Lightning's banners hidden unless asked for.

A researcher reads the loss lines, and an error must be the first thing on stderr; the
``--verbose`` flag of every command (``verbose=True`` in Python) shows everything.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

__all__ = ["BANNER_LOGGERS", "THIRD_PARTY", "lightning_quiet", "third_party_noise"]

#: Packages whose warnings a user of the command cannot act on (shown with --verbose).
THIRD_PARTY = ("torch", "torchvision", "lightning", "lightning_fabric", "pytorch_lightning", "jsonargparse",
               "sklearn", "matplotlib", "PIL", "numpy", "scipy")
#: Loggers of Lightning's banners and tips ("GPU available: ...", "Tip: try litlogger").
#: Also the seed announcement (before the config is even built) and "Initializing distributed".
BANNER_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero",
                  "lightning.fabric.utilities.seed", "lightning.pytorch.utilities.seed",
                  "lightning.fabric.utilities.distributed")


@contextlib.contextmanager
def third_party_noise(verbose: bool) -> Iterator[None]:
    """Unless ``verbose``: silence deprecation/future warnings and the warnings of
    :data:`THIRD_PARTY` packages, and Lightning's info banners, for the duration of a command
    (restored after, so in-process callers keep their settings)."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in BANNER_LOGGERS]
    levels = [log.level for log in loggers]
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("ignore", module=rf"({'|'.join(THIRD_PARTY)})(\.|$)")
        for log in loggers:
            log.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for log, level in zip(loggers, levels, strict=True):
                log.setLevel(level)


@contextlib.contextmanager
def lightning_quiet(verbose: bool = False) -> Iterator[None]:
    """:func:`third_party_noise`, and LightningCLI's notice that it was handed arguments in
    Python (autoenc does that on purpose), for code that trains in-process."""
    with warnings.catch_warnings(), third_party_noise(verbose):
        warnings.filterwarnings("ignore", message=r"LightningCLI's args parameter is intended to run from within Python")
        # --optimizer / --lr_scheduler replace the model's default optimiser, as asked
        warnings.filterwarnings("ignore", message=r".*configure_optimizers` will be overridden by")
        yield
