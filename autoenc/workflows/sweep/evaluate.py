"""Measure a trained model at one or several code sizes on the validation split.

For each size k the code is cut to its first k units (the rest zeroed, as nested dropout
trains it; k = latent_dim is the model as trained) and we measure:

* ``recon``: reconstruction negative log-likelihood, nats per image (summed over pixels, mean
  over images). For a VAE it is the ELBO's term, E_q[-log p(x|z)] with one posterior sample per
  image from a seeded generator.
* ``kl`` / ``neg_elbo`` (VAE): KL of the first k units to the prior and recon + KL, nats.
* ``active_units`` (VAE): units among the first k with Cov_x(E[z|x]) > 0.01 (Burda et al. 2015),
  from :func:`autoenc.measure.codes.unit_activity`, the quantity ``active_units`` thresholds.
* ``twonn`` (+ ``twonn_spread``): TwoNN intrinsic dimension of the k-unit codes (posterior means).
* ``probe_accuracy``: a linear probe (the ``linear`` probe of :mod:`autoenc.features.probes`)
  fitted on the training split's codes and scored on the validation codes, when the data has
  class labels.
* ``label_efficiency`` (with ``labels_per_class``): that probe's accuracy on the validation codes
  against the number of labelled training items per class, over random draws
  (:func:`autoenc.features.label_efficiency.label_efficiency_arrays`; the same draws for every
  size, so sizes are compared on the same labelled items).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autoenc.core.constraints import check_params
from autoenc.core.defaults import DEFAULT_BATCH_SIZE
from autoenc.core.errors import UserError
from autoenc.features.label_efficiency import (
    PARAMS,
    check_counts,
    label_efficiency_arrays,
    parse_counts,
)
from autoenc.measure.codes import (
    ACTIVE_THRESHOLD,
    batches,
    check_images,
    encode_all,
    unit_activity,
)
from autoenc.measure.label_curve import LabelEfficiency
from autoenc.models.autoencoder_module import AutoencoderModule, keep_prefix
from autoenc.models.vae import gaussian_kl


@dataclass(frozen=True)
class EvalSettings:
    """How a sweep measures its models.

    Attributes:
        id_repeats: TwoNN subsamples for its spread (0: none).
        seed: seed of the VAE's posterior samples, the TwoNN subsamples and the probe.
        batch_size: images per forward pass.
        probe: fit the linear probe when the data has class labels.
        labels_per_class: label efficiency: counts of labelled training items per class, e.g.
            ``"1,10,100,all"`` or ``(1, 10, "all")`` (stored parsed, as a tuple); None: none.
        draws: label efficiency: random draws of the labelled items per count.
    """

    id_repeats: int = 5
    seed: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE
    probe: bool = True
    labels_per_class: tuple[int | str, ...] | str | None = None
    draws: int = 5

    def __post_init__(self) -> None:
        # checked here, so a bad count fails before any training
        check_params(PARAMS, {"draws": self.draws})
        if self.labels_per_class is not None:
            object.__setattr__(self, "labels_per_class", tuple(parse_counts(self.labels_per_class)))


@dataclass(frozen=True)
class CodeMetrics:
    """One model measured at one code size (None: not defined for this model or data, or not
    asked for: ``label_efficiency`` only with ``EvalSettings.labels_per_class``)."""

    latent_dim: int
    recon: float
    kl: float | None
    neg_elbo: float | None
    active_units: int | None
    twonn: float
    twonn_spread: float | None
    probe_accuracy: float | None
    n_val: int
    label_efficiency: LabelEfficiency | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CodeMetrics:
        """The inverse of :meth:`to_dict` (a cached evaluation read back)."""
        curve = data.get("label_efficiency")
        return cls(**{**data, "label_efficiency": None if curve is None else LabelEfficiency.from_dict(curve)})


def check_prefixes(prefixes: Sequence[int], latent_dim: int) -> list[int]:
    """Code sizes in 1..latent_dim."""
    bad = [k for k in prefixes if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= latent_dim]
    if not prefixes or bad:
        raise UserError(f"code sizes must be in 1..{latent_dim} (the model's latent_dim), got {list(prefixes)}")
    return list(prefixes)


def reconstruction_terms(model: AutoencoderModule, images: torch.Tensor, prefixes: Sequence[int], *,
                         seed: int = 0, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[int, tuple[float, float | None]]:
    """Per code size k: (reconstruction NLL, KL of the first k units or None), each in nats per
    image (mean over ``images``, (N, C, H, W) uint8 or float in [0, 1])."""
    prefixes = check_prefixes(prefixes, model.latent_dim)
    check_images(model, images)
    variational = model.has_prior
    generator = torch.Generator().manual_seed(seed)
    recon = {k: 0.0 for k in prefixes}
    kl = {k: 0.0 for k in prefixes}
    with torch.inference_mode():
        for x in batches(images, batch_size, model.device):
            if variational:
                mu, logvar = model.posterior(x)
                eps = torch.randn(mu.shape, generator=generator).to(mu.device)
                z = mu + eps * (0.5 * logvar).exp()
                kl_dims = gaussian_kl(mu, logvar)
            else:
                z = model.encode(x)
            for k in prefixes:
                nll = model.reconstruction_nll(model.decode_logits(keep_prefix(z, k)), x)
                recon[k] += float(nll.double().sum())
                if variational:
                    kl[k] += float(kl_dims[:, :k].double().sum())
    n = len(images)
    return {k: (recon[k] / n, kl[k] / n if variational else None) for k in prefixes}


def twonn(codes: np.ndarray, repeats: int, seed: int) -> tuple[float, float | None]:
    """TwoNN ID of (N, k) codes and its spread; NaN when the codes do not allow an estimate
    (e.g. too few distinct points)."""
    from autoenc.measure.intrinsic_dim import DuplicatePointsWarning, estimate_all

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DuplicatePointsWarning)
            result = estimate_all(codes, ["twonn"], repeats=repeats, seed=seed)[0]
    except UserError as err:
        warnings.warn(f"TwoNN of {codes.shape[1]}-d codes failed: {err}", stacklevel=2)
        return math.nan, None
    return float(result.value), result.spread


def class_labels(targets: torch.Tensor | None) -> np.ndarray | None:
    """(N,) integer class labels, or None when the data has none (unlabelled, or factor vectors)."""
    if targets is None or targets.ndim != 1 or targets.dtype.is_floating_point:
        return None
    return targets.cpu().numpy()


def curve_labels(targets: torch.Tensor | None, labels_per_class: Sequence[int | str]) -> np.ndarray:
    """(N,) class labels of a training split for label efficiency; refuses data without class
    labels and counts its smallest class cannot give (one line each)."""
    labels = class_labels(targets)
    if labels is None:
        raise UserError("labels_per_class needs class labels, and this data has none (unlabelled, or factor "
                        "values); drop labels_per_class")
    check_counts(labels, labels_per_class)
    return labels


def probe_accuracy(train_codes: np.ndarray, train_labels: np.ndarray, val_codes: np.ndarray,
                   val_labels: np.ndarray, seed: int = 0) -> float | None:
    """Accuracy in [0, 1] of a linear probe fitted on (N_train, k) codes and scored on
    (N_val, k) codes; None with fewer than two training classes."""
    from autoenc.features.probes import PROBES

    if len(np.unique(train_labels)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on tiny codes is not the user's concern
        probe = PROBES.get("linear")(seed=seed).fit(train_codes, train_labels)
    return float(probe.score(val_codes, val_labels))


def evaluate_model(model: AutoencoderModule, val_images: torch.Tensor, prefixes: Sequence[int] | None, *,
                   val_targets: torch.Tensor | None = None, train_images: torch.Tensor | None = None,
                   train_targets: torch.Tensor | None = None,
                   settings: EvalSettings = EvalSettings()) -> list[CodeMetrics]:
    """Measure ``model`` at each code size in ``prefixes`` (see the module docstring).

    Args:
        val_images: (N, C, H, W) uint8 or float in [0, 1], N >= 3; the split measured.
        prefixes: code sizes in 1..latent_dim (latent_dim alone for a model trained at its size);
            None: the whole code (C*h*w numbers for a spatial code, latent_dim units for TopK).
        val_targets, train_images, train_targets: class labels of the validation images and the
            training split with its labels, for the linear probe (skipped when any is missing)
            and label efficiency (``settings.labels_per_class``; required then).

    Returns:
        One :class:`CodeMetrics` per size, in the order given.
    """
    prefixes = check_prefixes([model.latent_dim] if prefixes is None else prefixes, model.latent_dim)
    model.eval()
    terms = reconstruction_terms(model, val_images, prefixes, seed=settings.seed, batch_size=settings.batch_size)
    codes = encode_all(model, val_images, settings.batch_size).double().numpy()
    activity = unit_activity(model, val_images, settings.batch_size) if model.has_prior else None
    y_val, y_train = class_labels(val_targets), class_labels(train_targets)
    curves = settings.labels_per_class is not None
    if curves:
        y_train = curve_labels(train_targets, settings.labels_per_class)
        if y_val is None or train_images is None:
            raise UserError("labels_per_class needs the validation labels (val_targets) and the training images "
                            "(train_images)")
    train_codes = None
    if (settings.probe or curves) and y_val is not None and y_train is not None and train_images is not None:
        train_codes = encode_all(model, train_images, settings.batch_size).double().numpy()
    results = []
    for k in prefixes:
        recon, kl = terms[k]
        twonn_value, spread = twonn(codes[:, :k], settings.id_repeats, settings.seed)
        accuracy = None
        if settings.probe and train_codes is not None:
            accuracy = probe_accuracy(train_codes[:, :k], y_train, codes[:, :k], y_val, settings.seed)
        results.append(CodeMetrics(
            latent_dim=k, recon=recon, kl=kl, neg_elbo=None if kl is None else recon + kl,
            active_units=None if activity is None else int((activity[:k] > ACTIVE_THRESHOLD).sum()),
            twonn=twonn_value, twonn_spread=spread, probe_accuracy=accuracy, n_val=len(val_images),
            label_efficiency=label_curve(train_codes[:, :k], y_train, codes[:, :k], y_val, settings) if curves
            else None,
        ))
    return results


def label_curve(train_codes: np.ndarray, train_labels: np.ndarray, val_codes: np.ndarray, val_labels: np.ndarray,
                settings: EvalSettings) -> LabelEfficiency:
    """Label efficiency of (N_train, k) codes: linear-probe accuracy on the (N_val, k) codes against
    ``settings.labels_per_class`` labelled training items per class, over ``settings.draws`` draws."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on tiny codes, as for probe_accuracy
        return label_efficiency_arrays(train_codes, train_labels, val_codes, val_labels, settings.labels_per_class,
                                       kind="linear", draws=settings.draws, seed=settings.seed)


def evaluate_run(run_dir: str | Path, prefixes: Sequence[int] | None,
                 settings: EvalSettings = EvalSettings()) -> list[CodeMetrics]:
    """Load a run directory's best checkpoint and its data, and measure it on the validation
    split at each code size, or over the whole code when ``prefixes`` is None (the probe trains
    on the training split)."""
    from autoenc.runs.run import Run

    opened = Run.open(run_dir)
    model, dm = opened.model, opened.datamodule
    val = dm.arrays("val")
    wanted = (settings.probe and val.targets is not None) or settings.labels_per_class is not None
    train = dm.arrays("train") if wanted else None
    return evaluate_model(model, val.images, prefixes, val_targets=val.targets,
                          train_images=None if train is None else train.images,
                          train_targets=None if train is None else train.targets, settings=settings)
