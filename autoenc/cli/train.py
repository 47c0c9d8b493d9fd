"""``autoenc fit`` and ``autoenc validate``: thin wrappers over AutoencCLI with one-line errors."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from autoenc.cli._config import find_user_error, one_line_error
from autoenc.errors import UserError

__all__ = ["find_user_error", "fit", "validate"]

# Lightning announces the seed on stderr before the config is even instantiated, so a bad
# option would print two lines; the seed is recorded in the run's config.yaml instead.
_SEED_LOGGER = "lightning.fabric.utilities.seed"


@contextlib.contextmanager
def _quiet_seed_message() -> Iterator[None]:
    logger = logging.getLogger(_SEED_LOGGER)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _exit_code(exc: SystemExit) -> int:
    """``--help`` / ``--print_config`` end with SystemExit; main() returns codes instead."""
    if exc.code is None or isinstance(exc.code, int):
        return int(exc.code or 0)
    raise UserError(" ".join(str(exc.code).split())) from None


def _run(subcommand: str, argv: list[str]) -> int:
    from jsonargparse import ArgumentError

    from autoenc.training.cli import AutoencCLI

    saved, sys.argv = sys.argv, sys.argv[:1]  # the CLI gets its arguments from `args`
    try:
        with _quiet_seed_message():
            AutoencCLI(args=[subcommand, *argv])
    except SystemExit as exc:
        return _exit_code(exc)
    except Exception as err:  # constructors' UserErrors arrive wrapped by jsonargparse
        cause = find_user_error(err)
        if cause is not None:
            raise cause from None
        if isinstance(err, ArgumentError):
            raise UserError(one_line_error(err)) from None
        raise
    finally:
        sys.argv = saved
    return 0


def fit(argv: list[str]) -> int:
    """Train: ``autoenc fit -c configs/digits_vae.yaml [--model.init_args.latent_dim 8]``."""
    return _run("fit", argv)


def validate(argv: list[str]) -> int:
    """Evaluate: ``autoenc validate -c CONFIG --ckpt_path CKPT``."""
    return _run("validate", argv)
