"""``autoenc sweep``: which bottleneck size? Train one config at several latent sizes, measure,
recommend. Generated from :func:`sweep_latent_sizes`.

    autoenc sweep configs/digits_vae.yaml --latent_dims 2,4,8,16,32 --seeds 3 --jobs 2
    autoenc sweep configs/digits_ae.yaml --latent_dims '[2,4,8,16,32]' --ordered true
    autoenc sweep CONFIG --latent_dims 2,8 --fit '{data.subset: 500}'   # options of every fit
    autoenc sweep configs/digits_spatial_vae.yaml --size_option latent_channels --latent_dims 1,2,4
    autoenc sweep configs/digits_topk.yaml --size_option k --latent_dims 2,4,8
    autoenc sweep configs/digits_ae.yaml --latent_dims 2,8,32 --labels_per_class 1,10,100,all

Every run is a normal ``autoenc fit`` run directory under ``<out>/runs``. Rerunning the same
command resumes: finished runs are skipped, interrupted ones resumed from their last.ckpt.
Writes sweep.csv, sweep.json, sweep.png and recommendation.txt to ``--out`` (and
sweep_labels.png with --labels_per_class).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import FLAG, NAME, OPTIONAL_PATH, PATH, Ints
from autoenc.core.constraints import Null
from autoenc.workflows.sweep.sweep_options import SWEEP_PARAMS


def sweep_latent_sizes(
    config: Path,
    *,
    latent_dims: Ints,
    seeds: int = 1,
    jobs: int = 1,
    out: Path | None = None,
    max_epochs: int | None = None,
    ordered: bool = False,
    fit: dict[str, Any] | None = None,
    recon_tolerance: float = 0.05,
    id_tolerance: float = 0.10,
    id_repeats: int = 5,
    probe: bool = True,
    size_option: Literal["latent_dim", "latent_channels", "k"] = "latent_dim",
    labels_per_class: str | None = None,
    draws: int = 5,
) -> int:
    """Train a config at several latent sizes (or one ordered nested-dropout model), measure each
    size on the validation split (reconstruction in nats, negative ELBO and active units for a
    VAE, TwoNN ID of the codes, linear-probe accuracy) and recommend one.

    Args:
        config: YAML training config (as for autoenc fit).
        latent_dims: latent sizes, e.g. 2,4,8,16,32 or [2,4,8,16,32], each once.
        seeds: runs per size; seeds = the config's seed_everything + 0..N-1.
        jobs: runs trained at once: 1 in this process, J > 1 in J worker processes.
        out: sweep directory (default sweeps/<config name>[_ordered]).
        max_epochs: epochs per run (default: the config's trainer.max_epochs).
        ordered: train ONE nested-dropout model at the largest size per seed and evaluate every
            prefix size from it.
        fit: options of every fit, with autoenc.fit's names, e.g. {data.subset: 500,
            model.init_args.lr: 0.001}.
        recon_tolerance: share of the reconstruction range (worst - best) a size may lose.
        id_tolerance: relative ID growth above a size that counts as stopped.
        id_repeats: TwoNN subsamples for its spread (0, or >= 2).
        probe: fit the linear probe on the codes.
        size_option: the model option the sizes set: latent_dim (flat code units), latent_channels
            (channels of a spatial code) or k (active units of a TopK code); --ordered takes
            latent_dim only.
        labels_per_class: counts of labelled training items per class, e.g. 1,10,100,all: the linear
            probe's validation accuracy against the number of labels, per size (a table and
            sweep_labels.png); needs class labels.
        draws: label efficiency: random draws per count (the interval is over them).
    """
    options = dict(locals())
    from autoenc.workflows.sweep import sweep

    result = sweep(**options, log=lambda s: print(f"sweep: {s}", flush=True))
    skipped = sum(t.status == "skipped" for t in result.trained)
    if skipped:
        print(f"sweep: {skipped} of {len(result.trained)} runs were already finished (skipped)")
    print()
    print(result.table())
    print()
    if result.label_curves:
        print(result.label_table())
        print()
    print(result.recommendation_text())
    extra = ", sweep_labels.png" if result.label_curves else ""
    print(f"\nwrote {result.out}/sweep.csv, sweep.json, sweep.png{extra}, recommendation.txt")
    return 0


main = Generated(sweep_latent_sizes, "autoenc sweep", positional=("config",),
                 params={"config": [PATH], **SWEEP_PARAMS, "out": OPTIONAL_PATH, "ordered": [FLAG], "probe": [FLAG],
                         "labels_per_class": [NAME, Null()]})
