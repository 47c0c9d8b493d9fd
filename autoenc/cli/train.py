"""``autoenc fit`` and ``autoenc validate``: thin wrappers over AutoencCLI with one-line errors.

Lightning's banners (accelerator availability, cloud-logging tips, "Trainer.fit stopped")
and known third-party deprecation warnings are hidden unless ``--verbose`` is given: a
researcher reads the loss lines, and an error must be the first thing on stderr.
"""

from __future__ import annotations

from autoenc.config_errors import one_line_error
from autoenc.errors import UserError, find_user_error
from autoenc.quiet import lightning_quiet

__all__ = ["find_user_error", "fit", "lightning_quiet", "validate"]


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
    except KeyboardInterrupt:
        return 130  # 128 + SIGINT; the checkpoint and the message are already written
    except SystemExit as exc:
        return _exit_code(exc)
    except Exception as err:  # constructors' UserErrors arrive wrapped by jsonargparse
        cause = find_user_error(err)
        if cause is not None:
            raise cause from None
        if isinstance(err, ArgumentError):
            message = one_line_error(err)
            if message.startswith("Problems parsing config"):
                message += "; -c takes a YAML config such as configs/digits_vae.yaml"
            raise UserError(message) from None
        raise
    if subcommand == "fit" and cli.config.fit.get("report") and cli.trainer.is_global_zero and cli.run_dir:
        from autoenc.cli.report import report

        return report([str(cli.run_dir)])
    return 0


def fit(argv: list[str]) -> int:
    """Train: ``autoenc fit -c configs/digits_vae.yaml [--model.init_args.latent_dim 8]``."""
    return _run("fit", argv)


def validate(argv: list[str]) -> int:
    """Evaluate: ``autoenc validate -c CONFIG --ckpt_path CKPT``; prints the metrics, writes nothing."""
    return _run("validate", argv)
