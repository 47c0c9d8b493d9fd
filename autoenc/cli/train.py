"""``autoenc fit`` and ``autoenc validate``: thin wrappers over AutoencCLI with one-line errors."""

from __future__ import annotations

import sys

from autoenc.cli._config import one_line_error
from autoenc.errors import UserError


def find_user_error(exc: BaseException) -> UserError | None:
    """The UserError that caused ``exc`` (jsonargparse wraps errors raised by constructors)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _run(subcommand: str, argv: list[str]) -> int:
    from jsonargparse import ArgumentError

    from autoenc.training.cli import AutoencCLI

    saved, sys.argv = sys.argv, sys.argv[:1]  # the CLI gets its arguments from `args`
    try:
        AutoencCLI(args=[subcommand, *argv])
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
