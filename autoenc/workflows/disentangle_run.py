"""Every disentanglement metric of one model on one ground truth, and the files that show them.

:func:`disentangle` splits the ground truth's images into disjoint training and test images
(:func:`~autoenc.data.ground_truth.split_pool`; identical renders on one side), draws codes
from each side, runs the chosen metrics (codes metrics fit on the training codes and test on
the test codes; interventional ones fit on points rendered from training images and score
on points from test images), repeats all of it ``repeats`` times with fresh draws (seeds
``seed``, ``seed + 1``, ...) and returns a :class:`DisentanglementReport` with every score's
mean, standard deviation and values; :func:`disentanglement_pictures` draws its matrices and
:func:`write_disentanglement` writes ``disentanglement.json`` and the pictures. Nothing is
written before everything is computed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autoenc.core.constraints import POSITIVE_INT, Interval, check_param
from autoenc.core.defaults import DEFAULT_BATCH_SIZE
from autoenc.core.errors import UserError
from autoenc.data.ground_truth import GroundTruth, split_pool
from autoenc.measure.disentanglement.arrays import DEFAULT_TEST_FRACTION
from autoenc.measure.disentanglement.information import (
    DEFAULT_BINS,
    Binning,
    discrete_entropy,
    mutual_info_matrix,
)
from autoenc.measure.disentanglement.interventional import draw_codes
from autoenc.measure.disentanglement.metrics import METRICS, check_factor_count
from autoenc.models.autoencoder_module import AutoencoderModule

#: What ``autoenc disentangle`` runs by default: every registered metric.
DEFAULT_METRICS: tuple[str, ...] = ("mig", "dci", "sap", "factor_vae", "beta_vae")


@dataclass
class DisentanglementReport:
    """The scores of one model and the matrices behind them.

    Attributes:
        scores: every metric's named scores (``mig``, ``disentanglement``, ``sap``, ...).
        factor_names, factor_sizes: the ground truth's K factors.
        latent_order: (D,) latents in display order (most informative first, like the traversal).
        latent_labels: (D,) row labels in that order.
        mutual_info: (D, K) I(z_j; v_k) in nats, rows in latent index order.
        factor_entropy: (K,) H(v_k) in nats.
        matrices: other (D, K) matrices by name (``importance``, ``sap_accuracy`` ...).
        details: per-metric extras (per-factor values, sizes); seconds: time per metric.
        spread: score name -> ``{"mean", "std", "values"}`` over the ``repeats`` evaluation
            draws (``scores`` holds the means; std 0 with one repeat).
        split: the training / test images: pool sizes, distinct images drawn on each side,
            codes per side (of the first repeat).
        settings: the evaluation options (binning, test fraction, repeats, DCI regressor ...).
    """

    scores: dict[str, float]
    factor_names: list[str]
    factor_sizes: list[int]
    latent_order: list[int]
    latent_labels: list[str]
    mutual_info: np.ndarray
    factor_entropy: np.ndarray
    n_codes: int
    seed: int
    matrices: dict[str, np.ndarray] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    spread: dict[str, dict[str, Any]] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def score_text(self, name: str) -> str:
        """``0.224 ± 0.012`` (mean ± std over the repeats), or ``0.224`` with one repeat."""
        spread = self.spread.get(name)
        if spread is None or len(spread["values"]) < 2:
            return f"{self.scores[name]:.3f}"
        return f"{spread['mean']:.3f} ± {spread['std']:.3f}"

    @property
    def normalized_mutual_info(self) -> np.ndarray:
        """(D, K) I(z_j; v_k) / H(v_k), in [0, 1]."""
        return self.mutual_info / self.factor_entropy[None, :]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (matrices as nested lists, rows in latent index order)."""
        return {
            "scores": {k: round(float(v), 6) for k, v in self.scores.items()},
            "factors": {"names": self.factor_names, "sizes": self.factor_sizes,
                        "entropy_nats": np.round(self.factor_entropy, 6).tolist()},
            "latent_order": self.latent_order,
            "spread": {k: {"mean": round(v["mean"], 6), "std": round(v["std"], 6),
                           "values": [round(x, 6) for x in v["values"]]} for k, v in self.spread.items()},
            "n_codes": self.n_codes,
            "seed": self.seed,
            "split": self.split,
            "settings": self.settings,
            "mutual_info_nats": np.round(self.mutual_info, 6).tolist(),
            "matrices": {k: np.round(v, 6).tolist() for k, v in self.matrices.items()},
            "details": self.details,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def check_metrics(metrics: Sequence[str] | None, factor_names: Sequence[str] | None = None) -> list[str]:
    """Registered metric names, in the order given, each once (unknown: the known names).

    ``metrics=None`` means every metric that works with the ground truth's factors
    (``factor_names``); a metric named explicitly that needs more factors is refused."""
    if metrics is None:
        count = len(factor_names) if factor_names is not None else 2
        return [m for m in DEFAULT_METRICS if METRICS.get(m).min_factors <= count]
    chosen = list(dict.fromkeys(metrics))
    if not chosen:
        raise UserError(f"choose at least one metric: {', '.join(METRICS.list())}")
    for name in chosen:
        METRICS.get(name)
        if factor_names is not None:
            check_factor_count(name, factor_names)
    return chosen


def _spread(values: list[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=float)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0,
            "values": [float(v) for v in array]}


def disentangle(encode: Callable[[torch.Tensor], Any], ground_truth: GroundTruth, n: int = 10_000, seed: int = 0,
                metrics: Sequence[str] | None = None, latent_order: Sequence[int] | None = None,
                latent_labels: Sequence[str] | None = None, num_bins: int = DEFAULT_BINS,
                options: dict[str, dict[str, Any]] | None = None, *, binning: Binning = "equal_width",
                test_fraction: float = DEFAULT_TEST_FRACTION, repeats: int = 1) -> DisentanglementReport:
    """Score a representation against a ground truth with every chosen metric.

    Args:
        encode: uint8 images (n, C, H, W) -> codes (n, D) (e.g. a VAE's posterior mean).
        ground_truth: the factors and their renderer (a finite set of images).
        n: codes for the codes metrics (MIG, DCI, SAP) and the mutual-information matrix:
            ``round(n * test_fraction)`` drawn from the test images, the rest from the
            training images (the two sets of images are disjoint).
        seed: the split and every random draw of the first repeat; repeat r uses seed + r.
        metrics: names in :data:`~autoenc.measure.disentanglement.METRICS` (None: every
            metric that works with the ground truth's number of factors).
        latent_order, latent_labels: display order and labels of the latents (default: index order).
        num_bins, binning: the MIG / mutual-information histogram (bins per latent;
            ``equal_width`` as disentanglement_lib, or ``quantile``).
        options: metric name -> extra keyword arguments (e.g. ``{"dci": {"regressor": "hist_gbt"}}``).
        test_fraction: share of the images held out for testing, in (0, 1).
        repeats: evaluation draws (split, codes, points), >= 1; ``scores`` are their means and
            ``spread`` their standard deviations and values.
    """
    check_param("repeats", [POSITIVE_INT], repeats)
    chosen = check_metrics(metrics, ground_truth.factor_names)
    options = dict(options or {})
    unknown = sorted(set(options) - set(chosen))
    if unknown:
        raise UserError(f"options given for {unknown[0]!r}, which is not among the metrics run")
    check_param("n", [Interval(int, 2, None, closed="left")], n)
    n_test = max(1, int(round(n * test_fraction)))
    values: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    matrices: dict[str, np.ndarray] = {}
    details: dict[str, Any] = {}
    split: dict[str, Any] = {}
    mi = factor_entropy = None
    for repeat in range(repeats):
        draw_seed = seed + repeat
        started = time.perf_counter()
        train_pool, test_pool, facts = split_pool(ground_truth, test_fraction, draw_seed)
        rng = np.random.default_rng(draw_seed)
        codes, factors, items = draw_codes(encode, train_pool, n - n_test, rng)
        codes_test, factors_test, items_test = draw_codes(encode, test_pool, n_test, rng)
        seconds["encode"] = seconds.get("encode", 0.0) + time.perf_counter() - started
        if repeat == 0:
            split = {**facts, "train_codes": n - n_test, "test_codes": n_test,
                     "distinct_train_images_drawn": int(len(np.unique(items))),
                     "distinct_test_images_drawn": int(len(np.unique(items_test))),
                     "shared_images": int(len(np.intersect1d(items, items_test)))}
            started = time.perf_counter()
            everything, all_factors = np.concatenate([codes, codes_test]), np.concatenate([factors, factors_test])
            mi = mutual_info_matrix(everything, all_factors, num_bins, binning)
            factor_entropy = discrete_entropy(all_factors)
            seconds["mutual_info"] = time.perf_counter() - started
        for name in chosen:
            metric = METRICS.get(name)
            extra = dict(options.get(name, {}))
            started = time.perf_counter()
            if metric.kind == "codes":
                if name == "mig":
                    extra.setdefault("num_bins", num_bins)
                    extra.setdefault("binning", binning)
                result = metric.fn(codes, factors, codes_test, factors_test, seed=draw_seed, **extra)
            else:
                result = metric.fn(encode, train_pool, seed=draw_seed, ground_truth_eval=test_pool, **extra)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            for key, value in result.scores.items():
                values.setdefault(key, []).append(float(value))
            if repeat == 0:
                matrices.update({k: v for k, v in result.matrices.items() if k != "mutual_info"})
                details[name] = result.details
    assert mi is not None and factor_entropy is not None
    d = mi.shape[0]
    order = list(range(d)) if latent_order is None else [int(i) for i in latent_order]
    if sorted(order) != list(range(d)):
        raise UserError(f"latent_order must be a permutation of 0..{d - 1}, got {order}")
    labels = [f"z{i}" for i in order] if latent_labels is None else list(latent_labels)
    spread = {k: _spread(v) for k, v in values.items()}
    settings = {"metrics": chosen, "num_bins": num_bins, "binning": binning, "test_fraction": test_fraction,
                "repeats": repeats, "seeds": [seed + r for r in range(repeats)],
                "options": {k: dict(opts) for k, opts in options.items()}}
    return DisentanglementReport(
        scores={k: v["mean"] for k, v in spread.items()}, factor_names=list(ground_truth.factor_names),
        factor_sizes=list(ground_truth.factor_sizes), latent_order=order, latent_labels=labels, mutual_info=mi,
        factor_entropy=factor_entropy, n_codes=n, seed=seed, matrices=matrices, details=details,
        seconds=seconds, spread=spread, split=split, settings=settings)


def disentanglement_pictures(report: DisentanglementReport) -> list[Any]:
    """``disentanglement_mi.png`` (normalised mutual information) and, when DCI ran,
    ``disentanglement_dci.png`` (importance), rows in the report's latent order."""
    from autoenc.render.charts import importance_figure, mutual_info_figure
    from autoenc.render.pictures import Picture

    rows = report.latent_order
    pictures = [Picture("disentanglement_mi.png", mutual_info_figure(
        report.normalized_mutual_info[rows], report.latent_labels, report.factor_names, report.scores.get("mig")))]
    if "importance" in report.matrices:
        pictures.append(Picture("disentanglement_dci.png", importance_figure(
            report.matrices["importance"][rows], report.latent_labels, report.factor_names,
            report.scores.get("disentanglement"), report.scores.get("completeness"))))
    return pictures


def write_disentanglement(report: DisentanglementReport, out: str | os.PathLike,
                          extra: dict[str, Any] | None = None) -> list[Path]:
    """Write ``disentanglement.json`` (the report, plus ``extra`` such as the checkpoint) and
    the pictures into directory ``out``; returns the paths written."""
    from autoenc.core.atomic import atomic_file
    from autoenc.render.pictures import write_pictures

    pictures = disentanglement_pictures(report)  # drawn before anything is written
    paths = write_pictures(pictures, out)
    path = Path(out) / "disentanglement.json"
    with atomic_file(path, "w") as f:
        json.dump({**(extra or {}), **report.as_dict()}, f, indent=2)
        f.write("\n")
    return [path, *paths]


def disentangle_model(model: Any, ground_truth: GroundTruth, n: int = 10_000, seed: int = 0,
                      metrics: Sequence[str] | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                      options: dict[str, dict[str, Any]] | None = None, **settings: Any) -> DisentanglementReport:
    """:func:`disentangle` for an autoencoder: codes are ``model.encode`` (a VAE's posterior
    mean); latents are shown most informative first (KL to the prior for a VAE, code variance
    otherwise), measured on 2,000 rendered images, as the traversal orders them. ``settings``:
    :func:`disentangle`'s keyword-only options (binning, test_fraction, repeats)."""
    from autoenc.measure.codes import encode_all, latent_stats

    def encode(images: torch.Tensor) -> np.ndarray:
        return encode_all(model, images, batch_size).double().numpy()

    rng = np.random.default_rng(seed)
    probe = ground_truth.render(ground_truth.sample_factors(min(n, 2000), rng), rng)
    stats = latent_stats(model, probe, batch_size)
    order = stats.order.tolist()
    labels = [f"z{d} ({stats.measure} {stats.informativeness[d].item():.2g})" for d in order]
    return disentangle(encode, ground_truth, n, seed, metrics, order, labels, options=options, **settings)


@dataclass
class DisentanglementSection:
    """The report's disentanglement part: scores, pictures (``Picture`` objects) and notes."""

    scores: dict[str, float]
    pictures: list
    notes: dict[str, str]


def disentanglement_section(model: AutoencoderModule, datamodule: object, seed: int = 0, n: int = 5000,
                            metrics: tuple[str, ...] = ("mig", "sap"),
                            batch_size: int = DEFAULT_BATCH_SIZE) -> DisentanglementSection | None:
    """Disentanglement scores and the latents x factors heat map when the data module's source
    has ground-truth factors (sprites); None otherwise. The fast metrics only by default
    (``autoenc disentangle`` runs them all)."""
    make = getattr(getattr(datamodule, "source", None), "ground_truth", None)
    if not callable(make):
        return None
    ground_truth = make(getattr(datamodule, "image_size", None), getattr(datamodule, "channels", None))
    report = disentangle_model(model, ground_truth, n, seed, metrics, batch_size)
    note = (f"I(z; v) / H(v) on {n:,} codes of uniformly drawn images (SAP fits on two thirds of the images "
            "and tests on the disjoint rest), latents ordered like the traversal; "
            "`autoenc disentangle RUN` adds DCI and the FactorVAE and beta-VAE scores.")
    return DisentanglementSection(report.scores, disentanglement_pictures(report), {"disentanglement_mi.png": note})
