"""``autoenc fit`` and ``autoenc validate``: thin wrappers over AutoencCLI with one-line errors.

Lightning's banners (accelerator availability, cloud-logging tips, "Trainer.fit stopped")
and known third-party deprecation warnings are hidden unless ``--verbose`` is given: a
researcher reads the loss lines, and an error must be the first thing on stderr.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

from autoenc.cli._config import find_user_error, one_line_error
from autoenc.errors import UserError

__all__ = ["find_user_error", "fit", "lightning_quiet", "validate"]

#: Loggers whose INFO lines are Lightning's banners and tips (and the seed announcement,
#: which comes before the config is even instantiated); warnings still show.
_CHATTY_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero",
                   "lightning.fabric.utilities.seed", "lightning.pytorch.utilities.seed",
                   "lightning.fabric.utilities.distributed")
#: Third-party modules whose deprecation notices are not the user's to act on.
_THIRD_PARTY = r"(lightning|lightning_fabric|lightning_utilities|pytorch_lightning|torch|torchvision|jsonargparse)(\.|$)"
#: Lightning's advice that is noise for in-memory datasets (fine-grained on purpose).
_NOISE = (r"The number of training batches .* is smaller than the logging interval",
          r".*does not have many workers which may be a bottleneck",
          r"The '(train|val)_dataloader' does not have many workers")


@contextlib.contextmanager
def lightning_quiet(verbose: bool = False) -> Iterator[None]:
    """Hide Lightning's INFO banners and known third-party deprecation warnings (unless
    ``verbose``), restoring every logger level and warning filter afterwards."""
    with warnings.catch_warnings():
        # we hand LightningCLI the very arguments of this command line on purpose
        warnings.filterwarnings("ignore", message=r"LightningCLI's args parameter is intended to run from within Python")
        if verbose:
            yield
            return
        with _quiet():
            yield


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _CHATTY_LOGGERS]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module=_THIRD_PARTY)
        for message in _NOISE:
            warnings.filterwarnings("ignore", message=message)
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def _exit_code(exc: SystemExit) -> int:
    """``--help`` / ``--print_config`` end with SystemExit; main() returns codes instead."""
    if exc.code is None or isinstance(exc.code, int):
        return int(exc.code or 0)
    raise UserError(" ".join(str(exc.code).split())) from None


def _run(subcommand: str, argv: list[str]) -> int:
    from jsonargparse import ArgumentError
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from autoenc.training.cli import AutoencCLI

    verbose = "--verbose" in argv
    argv = [a for a in argv if a != "--verbose"]
    # sys.argv stays as it is: Lightning's multi-process launcher re-runs this very command
    # line in each new process.
    try:
        with lightning_quiet(verbose):
            cli = AutoencCLI(args=[subcommand, *argv])
    except SIGTERMException:
        return 143  # 128 + SIGTERM; the checkpoint and the message are already written
    except SystemExit as exc:
        return _exit_code(exc)
    except Exception as err:  # constructors' UserErrors arrive wrapped by jsonargparse
        cause = find_user_error(err)
        if cause is not None:
            raise cause from None
        if isinstance(err, ArgumentError):
            raise UserError(one_line_error(err)) from None
        raise
    if subcommand == "fit" and cli.config.fit.get("report") and cli.trainer.is_global_zero and cli.run_dir:
        from autoenc.analysis.look import write_report

        print(f"wrote {write_report(cli.run_dir)}")
    return 0


def fit(argv: list[str]) -> int:
    """Train: ``autoenc fit -c configs/digits_vae.yaml [--model.init_args.latent_dim 8]``."""
    return _run("fit", argv)


def validate(argv: list[str]) -> int:
    """Evaluate: ``autoenc validate -c CONFIG --ckpt_path CKPT``; prints the metrics, writes nothing."""
    return _run("validate", argv)
