"""``autoenc report RUN_DIR``: every picture of the bottleneck and the run's key numbers on one page.

Writes into ``--out`` (default ``RUN_DIR/report``): ``report.md`` (validation loss terms in
nats, latent size, active units for a VAE, parameter count, figures), ``summary.json``,
``training_curve.png`` (from metrics.csv), ``reconstructions.png``, ``traversal.png``,
``traversal.gif``, ``samples.png``, ``interpolation.png`` and ``latent_map.png``.
``autoenc fit --report true`` runs it at the end of training.
"""

from __future__ import annotations

from autoenc.cli._args import ArgumentParser, seed
from autoenc.cli.look import DEFAULT_BATCH_SIZE, add_data_options, positive


def report(argv: list[str]) -> int:
    """``autoenc report RUN_DIR [--out DIR] [--seed 0] [--tsne] [--color-by NAME]``."""
    p = ArgumentParser(prog="autoenc report",
                       description="Write a one-page report of a trained run (figures + key numbers) "
                                   "computed on its validation split.")
    p.add_argument("run", help="a run directory (uses its best checkpoint) or a .ckpt file")
    p.add_argument("--out", default=None, help="output directory (default: <run>/report)")
    p.add_argument("--seed", type=seed, default=0, help="seed of every random choice (default: %(default)s)")
    p.add_argument("--tsne", action="store_true", help="also draw a t-SNE map of the codes (slower)")
    p.add_argument("--color-by", help="latent map colouring: label, or a factor name for factor data")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help="images per encoder/decoder call (default: %(default)s)")
    add_data_options(p)
    args = p.parse_args(argv)
    positive(args.batch_size, "--batch-size")
    from autoenc.analysis.look import check_out_dir, run_directory, write_report
    from autoenc.atomic import staged_files
    from autoenc.training.checkpoints import resolve_checkpoint

    ckpt = resolve_checkpoint(args.run)
    out = check_out_dir(args.out if args.out is not None else run_directory(ckpt) / "report")
    datamodule = None
    if args.data is not None or args.overrides:
        from autoenc.cli.look import datamodule_for

        datamodule = datamodule_for(args, ckpt)
    # The report's files go to a staging directory first: `out` gets all of them or none.
    with staged_files(out) as stage:
        path = write_report(ckpt, stage, args.seed, args.tsne, args.color_by, datamodule, args.batch_size)
    print(f"wrote {out / path.name}")
    return 0
