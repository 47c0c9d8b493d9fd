"""``autoenc disentangle RUN``: how well each latent isolates one ground-truth factor.

Splits the ground truth's images (sprites; or the labels of labelled data with ``--labels
true``: a class label, or CelebA's 40 attributes, chosen with ``--factors``) into disjoint
training and test images, encodes ``--n`` images drawn from them and runs every metric that
works with the number of factors (MIG, DCI, SAP, FactorVAE and beta-VAE scores, definitions as
disentanglement_lib), ``--repeats`` times with fresh draws for a spread. Writes into ``--out``
(default ``<run>/disentanglement``): ``disentanglement.json`` (scores, factor names, the
latents x factors matrices) and ``disentanglement_mi.png`` / ``disentanglement_dci.png``
(heat maps, latents ordered like the traversal). Options are checked and everything is
computed before the first file is written. Generated from :func:`disentangle_run`.

    autoenc disentangle runs/sprites_vae_small/version_0 --n 10000 --metrics [mig,dci,sap]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import FLAG, NAME, OPTIONAL_COUNT, OPTIONAL_PATH, PATH, SEED, Names
from autoenc.core.constraints import POSITIVE_INT, Interval, ListOf, Null, Options
from autoenc.core.defaults import DEFAULT_BATCH_SIZE
from autoenc.core.errors import UserError

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule


def disentangle_run(run: str, *, out: Path | None = None, n: int = 10_000, metrics: Names | None = None,
                    vote_points: int = 1000, labels: bool = False, factors: Names | None = None,
                    regressor: Literal["gbt", "hist_gbt", "lasso", "forest"] = "hist_gbt",
                    binning: Literal["equal_width", "quantile"] = "equal_width", bins: int = 20,
                    test_fraction: float = 1 / 3, repeats: int = 3, jobs: int | None = None, seed: int = 0,
                    batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None) -> int:
    """Disentanglement scores of a run against the ground-truth factors of its data (sprites).

    Also the latents x factors mutual-information and DCI importance heat maps.

    Args:
        run: a run directory (uses its best checkpoint) or a .ckpt file.
        out: output directory (default: <run>/disentanglement).
        n: codes for MIG, DCI, SAP and the MI matrix (a test_fraction of them from the test images).
        metrics: metrics to compute, e.g. [mig, dci] (default: those of mig, dci, sap, factor_vae,
            beta_vae that work with the number of factors; dci, factor_vae, beta_vae need 2).
        vote_points: training points of the FactorVAE and beta-VAE scores, each a batch of 64 images;
            half as many evaluate (disentanglement_lib: 10000).
        labels: use the labels of labelled data as the factors (a class label: one factor).
        factors: with --labels, the label columns to use as factors, e.g. [Smiling,Male] of
            CelebA's 40 attributes (default: every column).
        regressor: DCI's predictor: hist_gbt (fast), gbt (disentanglement_lib's, slow), lasso, forest.
        binning: MIG's histogram of each latent: equal_width (disentanglement_lib) or quantile.
        bins: MIG's bins per latent.
        test_fraction: share of the images held out as test images, in (0, 1).
        repeats: evaluation draws (split, codes, points) for each score's spread.
        jobs: processes for DCI's per-factor fits (default: all CPUs).
        seed: seed of the first draw (repeat r uses seed + r).
        batch_size: images per encoder call.
        data: data to use instead of the run's own (only the options given override it).
    """
    from autoenc.workflows.disentangle_run import check_metrics

    if factors is not None and not labels:
        raise UserError("--factors picks label columns and needs --labels true")
    names = None if metrics is None else [m.strip() for m in metrics if m.strip()]
    check_metrics(names)

    from autoenc.render.pictures import check_out_dir
    from autoenc.runs.checkpoints import resolve_checkpoint
    from autoenc.runs.run import open_with_data, run_directory
    from autoenc.workflows.disentangle_run import disentangle_model, write_disentanglement

    directory = check_out_dir(out if out is not None else run_directory(resolve_checkpoint(run)) / "disentanglement")
    opened, dm = open_with_data(run, data)
    model = opened.model
    ground_truth = _ground_truth(dm, labels, factors)
    chosen = check_metrics(names, ground_truth.factor_names)
    options = {"factor_vae": {"num_train": vote_points, "num_eval": max(1, vote_points // 2)},
               "beta_vae": {"num_train": vote_points, "num_eval": max(1, vote_points // 2)},
               "dci": {"n_jobs": jobs, "regressor": regressor}}
    report = disentangle_model(model, ground_truth, n, seed, chosen, batch_size,
                               {k: v for k, v in options.items() if k in chosen}, binning=binning, num_bins=bins,
                               test_fraction=test_fraction, repeats=repeats)
    for path in write_disentanglement(report, directory, {"checkpoint": str(opened.checkpoint), "source": dm.source.name}):
        print(f"wrote {path}")
    print("  ".join(f"{k} {report.score_text(k)}" for k in report.scores))
    return 0


main = Generated(disentangle_run, "autoenc disentangle", positional=("run",), run="run", data="optional",
                 params={"run": [PATH], "out": OPTIONAL_PATH, "n": [POSITIVE_INT], "metrics": [ListOf(NAME), Null()],
                         "vote_points": [POSITIVE_INT], "labels": [FLAG], "jobs": OPTIONAL_COUNT, "seed": [SEED],
                         "batch_size": [POSITIVE_INT], "factors": [ListOf(NAME), Null()],
                         "regressor": [Options(["gbt", "hist_gbt", "lasso", "forest"])],
                         "binning": [Options(["equal_width", "quantile"])], "bins": [Interval(int, 2, None, closed="left")],
                         "test_fraction": [Interval(float, 0, 1, closed="neither")], "repeats": [POSITIVE_INT]})


def _ground_truth(dm: Any, labels: bool, factors: list[str] | None) -> Any:
    from autoenc.data.ground_truth import LabelledGroundTruth, ground_truth_of

    if not labels:
        return ground_truth_of(dm.source, dm.image_size, dm.channels)
    data = dm.arrays("val")
    targets = data.targets
    if targets is None or targets.dtype.is_floating_point:
        raise UserError(f"--labels needs integer labels, and data source {dm.source.name!r} has "
                        f"{'none' if targets is None else 'real-valued targets'}; use a labelled source "
                        "(digits, mnist, celeba ...)")
    if targets.ndim == 1:
        if factors is not None:
            raise UserError(f"--factors picks label columns, and data source {dm.source.name!r} has one class label")
        return LabelledGroundTruth(data.images, targets)
    names = list(data.target_names or [f"label{k}" for k in range(targets.shape[1])])
    if factors is None:
        return LabelledGroundTruth(data.images, targets, names=names)
    missing = [f for f in factors if f not in names]
    if missing:
        raise UserError(f"--factors: {missing[0]!r} is not a label of {dm.source.name!r}; labels: {', '.join(names)}")
    columns = [names.index(f) for f in factors]
    return LabelledGroundTruth(data.images, targets[:, columns], names=factors)
