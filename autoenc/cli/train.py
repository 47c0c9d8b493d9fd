"""``autoenc fit`` and ``autoenc validate``: thin wrappers over AutoencCLI with one-line errors.

Lightning's banners (accelerator availability, cloud-logging tips, "Trainer.fit stopped")
and known third-party deprecation warnings are hidden unless ``--verbose`` is given: a
researcher reads the loss lines, and an error must be the first thing on stderr.
"""

from __future__ import annotations

from autoenc.cli._generate import data_options


def _run(subcommand: str, argv: list[str]) -> int:
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from autoenc.training.lightning_cli import build_cli

    verbose = "--verbose" in argv
    argv, _ = data_options([a for a in argv if a != "--verbose"])
    # sys.argv stays as it is: Lightning's multi-process launcher re-runs this very command
    # line in each new process.
    try:
        cli = build_cli([subcommand, *argv], verbose=verbose)
    except SIGTERMException:
        return 143  # 128 + SIGTERM; the checkpoint and the message are already written
    except KeyboardInterrupt:
        return 130  # 128 + SIGINT; the checkpoint and the message are already written
    except SystemExit as exc:  # --help / --print_config
        return int(exc.code or 0)
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
