"""Every disentanglement metric of one model on one ground truth, and the files that show them.

:func:`disentangle` encodes ``n`` images of uniformly sampled factors, runs the chosen metrics
(codes metrics on those codes, interventional ones on fresh renders) and returns a
:class:`DisentanglementReport`; :func:`disentanglement_pictures` draws its matrices and
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

from autoenc.analysis.disentanglement.information import (
    DEFAULT_BINS,
    discrete_entropy,
    mutual_info_matrix,
)
from autoenc.analysis.disentanglement.interventional import sample_codes
from autoenc.analysis.disentanglement.registry import METRICS
from autoenc.data.ground_truth import GroundTruth
from autoenc.defaults import DEFAULT_BATCH_SIZE
from autoenc.errors import UserError

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
            "n_codes": self.n_codes,
            "seed": self.seed,
            "mutual_info_nats": np.round(self.mutual_info, 6).tolist(),
            "matrices": {k: np.round(v, 6).tolist() for k, v in self.matrices.items()},
            "details": self.details,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def check_metrics(metrics: Sequence[str]) -> list[str]:
    """Registered metric names, in the order given, each once (unknown: the known names)."""
    chosen = list(dict.fromkeys(metrics))
    if not chosen:
        raise UserError(f"choose at least one metric: {', '.join(METRICS.list())}")
    for name in chosen:
        METRICS.get(name)
    return chosen


def disentangle(encode: Callable[[torch.Tensor], Any], ground_truth: GroundTruth, n: int = 10_000, seed: int = 0,
                metrics: Sequence[str] = DEFAULT_METRICS, latent_order: Sequence[int] | None = None,
                latent_labels: Sequence[str] | None = None, num_bins: int = DEFAULT_BINS,
                options: dict[str, dict[str, Any]] | None = None) -> DisentanglementReport:
    """Score a representation against a ground truth with every chosen metric.

    Args:
        encode: uint8 images (n, C, H, W) -> codes (n, D) (e.g. a VAE's posterior mean).
        ground_truth: the factors and their renderer.
        n: codes of uniformly sampled factors for the codes metrics (MIG, DCI, SAP) and the
            mutual-information matrix; DCI and SAP hold out a seeded third as their test split.
        seed: every random draw; same seed, same numbers.
        metrics: names in :data:`~autoenc.analysis.disentanglement.METRICS`.
        latent_order, latent_labels: display order and labels of the latents (default: index order).
        options: metric name -> extra keyword arguments (e.g. ``{"factor_vae": {"num_train": 1000}}``).
    """
    chosen = check_metrics(metrics)
    options = dict(options or {})
    started = time.perf_counter()
    codes, factors = sample_codes(encode, ground_truth, n, seed)
    seconds = {"encode": time.perf_counter() - started}
    started = time.perf_counter()
    mi = mutual_info_matrix(codes, factors, num_bins)
    seconds["mutual_info"] = time.perf_counter() - started
    d = codes.shape[1]
    order = list(range(d)) if latent_order is None else [int(i) for i in latent_order]
    if sorted(order) != list(range(d)):
        raise UserError(f"latent_order must be a permutation of 0..{d - 1}, got {order}")
    labels = [f"z{i}" for i in order] if latent_labels is None else list(latent_labels)
    scores: dict[str, float] = {}
    matrices: dict[str, np.ndarray] = {}
    details: dict[str, Any] = {}
    for name in chosen:
        metric = METRICS.get(name)
        extra = dict(options.pop(name, {}))
        started = time.perf_counter()
        if metric.kind == "codes":
            if name == "mig":
                extra.setdefault("num_bins", num_bins)
            result = metric.fn(codes, factors, seed=seed, **extra)
        else:
            result = metric.fn(encode, ground_truth, seed=seed, **extra)
        seconds[name] = time.perf_counter() - started
        scores.update(result.scores)
        matrices.update({k: v for k, v in result.matrices.items() if k != "mutual_info"})
        details[name] = result.details
    if options:
        raise UserError(f"options given for {sorted(options)[0]!r}, which is not among the metrics run")
    return DisentanglementReport(
        scores=scores, factor_names=list(ground_truth.factor_names), factor_sizes=list(ground_truth.factor_sizes),
        latent_order=order, latent_labels=labels, mutual_info=mi, factor_entropy=discrete_entropy(factors),
        n_codes=n, seed=seed, matrices=matrices, details=details, seconds=seconds)


def disentanglement_pictures(report: DisentanglementReport) -> list[Any]:
    """``disentanglement_mi.png`` (normalised mutual information) and, when DCI ran,
    ``disentanglement_dci.png`` (importance), rows in the report's latent order."""
    from autoenc.analysis.pictures import Picture
    from autoenc.analysis.plots.disentanglement import importance_figure, mutual_info_figure

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
    from autoenc.analysis.pictures import write_pictures
    from autoenc.atomic import atomic_file

    pictures = disentanglement_pictures(report)  # drawn before anything is written
    paths = write_pictures(pictures, out)
    path = Path(out) / "disentanglement.json"
    with atomic_file(path, "w") as f:
        json.dump({**(extra or {}), **report.as_dict()}, f, indent=2)
        f.write("\n")
    return [path, *paths]


def disentangle_model(model: Any, ground_truth: GroundTruth, n: int = 10_000, seed: int = 0,
                      metrics: Sequence[str] = DEFAULT_METRICS, batch_size: int = DEFAULT_BATCH_SIZE,
                      options: dict[str, dict[str, Any]] | None = None) -> DisentanglementReport:
    """:func:`disentangle` for an autoencoder: codes are ``model.encode`` (a VAE's posterior
    mean); latents are shown most informative first (KL to the prior for a VAE, code variance
    otherwise), measured on 2,000 rendered images, as the traversal orders them."""
    from autoenc.analysis.latents import encode_all, latent_stats

    def encode(images: torch.Tensor) -> np.ndarray:
        return encode_all(model, images, batch_size).double().numpy()

    rng = np.random.default_rng(seed)
    probe = ground_truth.render(ground_truth.sample_factors(min(n, 2000), rng), rng)
    stats = latent_stats(model, probe, batch_size)
    order = stats.order.tolist()
    labels = [f"z{d} ({stats.measure} {stats.informativeness[d].item():.2g})" for d in order]
    return disentangle(encode, ground_truth, n, seed, metrics, order, labels, options=options)
