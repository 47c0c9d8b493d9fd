"""``autoenc disentangle RUN``: how well each latent isolates one ground-truth factor.

Renders ``--n`` images of uniformly sampled factors of the run's data (sprites; or the class
label of labelled data with ``--labels true``), encodes them and runs every metric (MIG, DCI,
SAP, FactorVAE and beta-VAE scores, definitions as disentanglement_lib). Writes into ``--out``
(default ``<run>/disentanglement``): ``disentanglement.json`` (scores, factor names, the
latents x factors matrices) and ``disentanglement_mi.png`` / ``disentanglement_dci.png``
(heat maps, latents ordered like the traversal). Options are checked and everything is
computed before the first file is written. Generated from :func:`disentangle_run`.

    autoenc disentangle runs/sprites_vae_small/version_0 --n 10000 --metrics [mig,dci,sap]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoenc.cli._checks import FLAG, NAME, OPTIONAL_COUNT, OPTIONAL_PATH, PATH, SEED, Names
from autoenc.cli._generate import Generated
from autoenc.constraints import POSITIVE_INT, ListOf, Null
from autoenc.defaults import DEFAULT_BATCH_SIZE
from autoenc.errors import UserError

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule


def disentangle_run(run: str, *, out: Path | None = None, n: int = 10_000, metrics: Names | None = None,
                    vote_points: int = 1000, labels: bool = False, jobs: int | None = None, seed: int = 0,
                    batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None) -> int:
    """Disentanglement scores of a run against the ground-truth factors of its data (sprites).

    Also the latents x factors mutual-information and DCI importance heat maps.

    Args:
        run: a run directory (uses its best checkpoint) or a .ckpt file.
        out: output directory (default: <run>/disentanglement).
        n: codes for MIG, DCI, SAP and the MI matrix.
        metrics: metrics to compute, e.g. [mig, dci] (default: all of mig, dci, sap, factor_vae, beta_vae).
        vote_points: training points of the FactorVAE and beta-VAE scores, each a batch of 64 images;
            half as many evaluate (disentanglement_lib: 10000).
        labels: use the class label of labelled data as a one-factor ground truth.
        jobs: processes for DCI's per-factor fits (default: all CPUs).
        seed: seed of every random draw.
        batch_size: images per encoder call.
        data: data to use instead of the run's own (only the options given override it).
    """
    from autoenc.analysis.disentanglement.api import DEFAULT_METRICS, check_metrics

    chosen = check_metrics(list(DEFAULT_METRICS) if metrics is None else [m.strip() for m in metrics if m.strip()])

    from autoenc.analysis.disentanglement.api import disentangle_model, write_disentanglement
    from autoenc.analysis.look import check_out_dir, run_directory
    from autoenc.training.checkpoints import load_model, resolve_checkpoint
    from autoenc.training.runs import check_input_shape, datamodule_from_checkpoint

    ckpt = resolve_checkpoint(run)
    directory = check_out_dir(out if out is not None else run_directory(ckpt) / "disentanglement")
    model = load_model(ckpt)
    dm = data if data is not None else datamodule_from_checkpoint(ckpt)
    check_input_shape(model, dm.input_shape)
    ground_truth = _ground_truth(dm, labels)
    options = {"factor_vae": {"num_train": vote_points, "num_eval": max(1, vote_points // 2)},
               "beta_vae": {"num_train": vote_points, "num_eval": max(1, vote_points // 2)},
               "dci": {"n_jobs": jobs}}
    report = disentangle_model(model, ground_truth, n, seed, chosen, batch_size,
                               {k: v for k, v in options.items() if k in chosen})
    for path in write_disentanglement(report, directory, {"checkpoint": str(ckpt), "source": dm.source.name}):
        print(f"wrote {path}")
    print("  ".join(f"{k} {v:.3f}" for k, v in report.scores.items()))
    return 0


main = Generated(disentangle_run, "autoenc disentangle", positional=("run",), run="run", data="optional",
                 params={"run": [PATH], "out": OPTIONAL_PATH, "n": [POSITIVE_INT], "metrics": [ListOf(NAME), Null()],
                         "vote_points": [POSITIVE_INT], "labels": [FLAG], "jobs": OPTIONAL_COUNT, "seed": [SEED],
                         "batch_size": [POSITIVE_INT]})


def _ground_truth(dm: Any, labels: bool) -> Any:
    from autoenc.data.ground_truth import LabelledGroundTruth, ground_truth_of

    if not labels:
        return ground_truth_of(dm.source, dm.image_size, dm.channels)
    data = dm.arrays("val")
    if data.targets is None or data.targets.ndim != 1:
        raise UserError(f"--labels needs class labels, and data source {dm.source.name!r} has none; "
                        "use a labelled source (digits, mnist, ...)")
    return LabelledGroundTruth(data.images, data.targets)
