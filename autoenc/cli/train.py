"""``autoenc fit`` and ``autoenc validate``: thin wrappers over AutoencCLI with one-line errors."""

from __future__ import annotations

from autoenc.cli._config import one_line_error
from autoenc.errors import UserError


def _run(subcommand: str, argv: list[str]) -> int:
    from jsonargparse import ArgumentError

    from autoenc.training.cli import AutoencCLI

    try:
        AutoencCLI(args=[subcommand, *argv])
    except ArgumentError as err:
        raise UserError(one_line_error(err)) from None
    return 0


def fit(argv: list[str]) -> int:
    """Train: ``autoenc fit -c configs/digits_vae.yaml [--model.init_args.latent_dim 8]``."""
    return _run("fit", argv)


def validate(argv: list[str]) -> int:
    """Evaluate: ``autoenc validate -c CONFIG --ckpt_path CKPT``."""
    return _run("validate", argv)
