"""The one way to build :class:`~autoenc.training.cli.AutoencCLI` with one-line errors, for
``autoenc fit``/``validate``, :func:`autoenc.fit` and the sweep's config check."""

from __future__ import annotations

from typing import Any

from autoenc.core.config_errors import one_line_error
from autoenc.core.errors import UserError, find_user_error, first_line
from autoenc.core.quiet import lightning_quiet


def build_cli(args: Any, *, run: bool = True, verbose: bool = False) -> Any:
    """``AutoencCLI(args=args, run=run)`` (quiet unless ``verbose``) -> the CLI object.

    ``--help`` and ``--print_config`` end in ``SystemExit`` with an int code, which passes
    through; Lightning's SIGTERM exception passes through too.

    Raises:
        UserError: a bad option, value or config file (one line), or a constructor's own
            UserError (jsonargparse wraps it; it is unwrapped).
    """
    from jsonargparse import ArgumentError

    from autoenc.training.cli import AutoencCLI, raised_in

    try:
        with lightning_quiet(verbose):
            return AutoencCLI(args=args, run=run)
    except SystemExit as exc:  # the parser's own exit on a bad config; --help / --print_config
        if exc.code is None or isinstance(exc.code, int):
            raise
        raise UserError(" ".join(str(exc.code).split()) or "invalid configuration") from None
    except Exception as err:
        cause = find_user_error(err)
        if cause is not None:
            raise cause from None
        if isinstance(err, ArgumentError | UnicodeDecodeError):
            raise UserError(one_line_error(err)) from None
        if isinstance(err, ValueError) and raised_in(err, "lightning.fabric.utilities.seed"):
            raise UserError(f"seed_everything: {first_line(err)}; give a seed in [0, 2**32), or true for a random "
                            "one") from None
        raise
