"""``autoenc disentangle RUN``: how well each latent isolates one ground-truth factor.

Renders ``--n`` images of uniformly sampled factors of the run's data (sprites; or the class
label of labelled data with ``--labels``), encodes them and runs every metric (MIG, DCI, SAP,
FactorVAE and beta-VAE scores, definitions as disentanglement_lib). Writes into ``--out``
(default ``<run>/disentanglement``): ``disentanglement.json`` (scores, factor names, the
latents x factors matrices) and ``disentanglement_mi.png`` / ``disentanglement_dci.png``
(heat maps, latents ordered like the traversal). Options are checked and everything is
computed before the first file is written.

    autoenc disentangle runs/sprites_vae_small/version_0 --n 10000 --metrics mig,dci,sap
"""

from __future__ import annotations

from autoenc.cli._args import ArgumentParser
from autoenc.cli.look import DEFAULT_BATCH_SIZE, add_data_options, positive
from autoenc.errors import UserError


def _metric_list(text: str) -> list[str]:
    from autoenc.analysis.disentanglement.api import check_metrics

    return check_metrics([t.strip() for t in text.split(",") if t.strip()])


def main(argv: list[str]) -> int:
    """``autoenc disentangle RUN [--n 10000] [--metrics mig,dci,sap,factor_vae,beta_vae] [--out DIR]``."""
    from autoenc.analysis.disentanglement.api import DEFAULT_METRICS

    p = ArgumentParser(prog="autoenc disentangle",
                       description="Disentanglement scores of a run against the ground-truth factors of its "
                                   "data (sprites), with the latents x factors mutual-information and DCI "
                                   "importance heat maps.")
    p.add_argument("run", help="a run directory (uses its best checkpoint) or a .ckpt file")
    p.add_argument("--out", default=None, help="output directory (default: <run>/disentanglement)")
    p.add_argument("--n", type=int, default=10_000, help="codes for MIG, DCI, SAP and the MI matrix (default: %(default)s)")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS), help="comma-separated (default: %(default)s)")
    p.add_argument("--vote-points", type=int, default=1000,
                   help="training points of the FactorVAE and beta-VAE scores, each a batch of 64 images; "
                        "half as many evaluate (disentanglement_lib: 10000) (default: %(default)s)")
    p.add_argument("--labels", action="store_true",
                   help="use the class label of labelled data as a one-factor ground truth")
    p.add_argument("--jobs", type=int, default=None, help="processes for DCI's per-factor fits (default: all CPUs)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help="images per encoder call (default: %(default)s)")
    add_data_options(p)
    args = p.parse_args(argv)
    positive(args.n, "--n")
    positive(args.vote_points, "--vote-points")
    positive(args.batch_size, "--batch-size")
    if args.jobs is not None:
        positive(args.jobs, "--jobs")
    metrics = _metric_list(args.metrics)

    from autoenc.analysis.disentanglement.api import disentangle_model, write_disentanglement
    from autoenc.analysis.look import check_out_dir, run_directory
    from autoenc.cli.look import datamodule_for
    from autoenc.training.checkpoints import load_model, resolve_checkpoint
    from autoenc.training.runs import check_input_shape

    ckpt = resolve_checkpoint(args.run)
    out = check_out_dir(args.out if args.out is not None else run_directory(ckpt) / "disentanglement")
    model = load_model(ckpt)
    dm = datamodule_for(args, ckpt)
    check_input_shape(model, dm.input_shape)
    ground_truth = _ground_truth(dm, args.labels)
    options = {"factor_vae": {"num_train": args.vote_points, "num_eval": max(1, args.vote_points // 2)},
               "beta_vae": {"num_train": args.vote_points, "num_eval": max(1, args.vote_points // 2)},
               "dci": {"n_jobs": args.jobs}}
    report = disentangle_model(model, ground_truth, args.n, args.seed, metrics, args.batch_size,
                               {k: v for k, v in options.items() if k in metrics})
    for path in write_disentanglement(report, out, {"checkpoint": str(ckpt), "source": dm.source.name}):
        print(f"wrote {path}")
    print("  ".join(f"{k} {v:.3f}" for k, v in report.scores.items()))
    return 0


def _ground_truth(dm, labels: bool):  # type: ignore[no-untyped-def]
    from autoenc.data.ground_truth import LabelledGroundTruth, ground_truth_of

    if not labels:
        return ground_truth_of(dm.source, dm.image_size, dm.channels)
    data = dm.arrays("val")
    if data.targets is None or data.targets.ndim != 1:
        raise UserError(f"--labels needs class labels, and data source {dm.source.name!r} has none; "
                        "use a labelled source (digits, mnist, ...)")
    return LabelledGroundTruth(data.images, data.targets)
