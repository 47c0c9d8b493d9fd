"""The key numbers of a trained run and the one-page ``report.md`` that shows them.

:func:`summarize` measures a model on its validation images (loss terms in nats per image,
active units for a VAE, parameter count); :func:`read_training_curve` reads the run's
``metrics.csv``; :func:`autoenc.render.report_page.render_markdown` lays them out on one page.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from autoenc.measure.codes import (
    DEFAULT_BATCH_SIZE,
    LatentStats,
    batches,
    check_images,
    code_size,
    firing_rates,
    per_channel,
)
from autoenc.models.autoencoder_module import AutoencoderModule, count_parameters


def evaluate_terms(model: AutoencoderModule, images: torch.Tensor, seed: int = 0,
                   batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, float]:
    """Each loss term of ``model(x)`` (``recon``, ``kl``, ``neg_elbo`` ...) averaged over
    ``images`` (N, C, H, W): nats per image, the same numbers as ``val/*`` during training
    (posterior samples drawn under ``seed``)."""
    check_images(model, images)
    sums: dict[str, float] = {}
    total = 0
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(seed)
        for x in batches(images, batch_size, model.device):
            out = model(x)
            terms = {"loss": out.loss, **out.terms}
            for name, value in terms.items():
                if torch.is_tensor(value) and value.numel() == 1:
                    sums[name] = sums.get(name, 0.0) + float(value) * len(x)
            total += len(x)
    return {name: s / total for name, s in sums.items()}


@dataclass
class TrainingCurve:
    """Logged scalars of a run: name -> (steps, values), each (T,) float arrays."""

    series: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def last(self, name: str) -> float | None:
        steps_values = self.series.get(name)
        return None if steps_values is None or not len(steps_values[1]) else float(steps_values[1][-1])


def read_training_curve(path: str | os.PathLike) -> TrainingCurve | None:
    """Parse a CSVLogger ``metrics.csv`` (a file, or a run directory holding one); None when
    absent. Rows log different metrics at different steps; empty cells are skipped."""
    p = Path(path)
    p = p / "metrics.csv" if p.is_dir() else p
    if not p.is_file():
        return None
    columns: dict[str, tuple[list[float], list[float]]] = {}
    with open(p, newline="") as f:
        for row in csv.DictReader(f):
            step = _number(row.get("step"))
            if step is None:
                continue
            for name, cell in row.items():
                value = _number(cell)
                if name in ("epoch", "step") or value is None:
                    continue
                steps, values = columns.setdefault(name, ([], []))
                steps.append(step)
                values.append(value)
    return TrainingCurve({k: (np.asarray(s), np.asarray(v)) for k, (s, v) in columns.items()})


def _number(cell: str | None) -> float | None:
    try:
        value = float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # None, "" (a metric not logged at this step) or text
        return None
    return value if math.isfinite(value) else None


@dataclass
class RunSummary:
    """A run's key numbers.

    Attributes:
        model: class name and registry name, e.g. "VariationalAutoencoder (vae)".
        latent_dim, parameters, input_shape: the model's size.
        data: what the numbers were measured on (source, split, N).
        terms: validation loss terms, nats per image.
        active_units: Burda et al. 2015 active units (VAE only), with their threshold.
        informativeness: (D,) KL per dimension (nats, VAE) or code variance (AE).
        measure: "KL" or "var".
        variational: the model has a N(0, I) prior (``model.has_prior``): KL in nats.
        checkpoint, epoch, step: which weights.
        latent_shape: shape of one code ((D,) flat, (C, h, w) spatial); latent_dim is its size.
        firing_rates: (D,) fraction of images in which each unit is non-zero (sparse TopK
            codes only, else None).
        kl_per_channel: (C,) KL of each channel summed over its positions, nats (spatial VAE
            only, else None); ``informativeness`` holds the per-element map, flattened.
    """

    model: str
    latent_dim: int
    parameters: int
    input_shape: tuple[int, int, int]
    data: str
    terms: dict[str, float]
    active_units: int | None
    active_threshold: float
    informativeness: list[float]
    measure: str
    variational: bool
    checkpoint: str
    epoch: int | None = None
    step: int | None = None
    latent_shape: tuple[int, ...] = ()
    firing_rates: list[float] | None = None
    kl_per_channel: list[float] | None = None

    def as_dict(self) -> dict:
        return dict(vars(self))


def summarize(model: AutoencoderModule, images: torch.Tensor, stats: LatentStats, data: str, checkpoint: str,
              epoch: int | None = None, step: int | None = None, seed: int = 0, threshold: float = 0.01,
              batch_size: int = DEFAULT_BATCH_SIZE) -> RunSummary:
    """Measure ``model`` on ``images`` (the validation split): loss terms (nats/image),
    active units for a VAE, parameter count. ``stats`` are the codes of the same images."""
    return RunSummary(
        model=f"{type(model).__name__} ({model.model_name})",
        latent_dim=code_size(model),
        latent_shape=tuple(model.latent_shape),
        firing_rates=[round(v, 4) for v in firing_rates(stats.codes).tolist()] if model.sparse_code else None,
        kl_per_channel=([round(v, 4) for v in per_channel(stats.informativeness, model.latent_shape).sum((1, 2))
                         .tolist()] if stats.variational and len(model.latent_shape) == 3 else None),
        parameters=count_parameters(model),
        input_shape=tuple(model.input_shape),
        data=data,
        terms=evaluate_terms(model, images, seed, batch_size),
        active_units=stats.active_units(threshold) if stats.variational else None,
        active_threshold=threshold,
        informativeness=[round(v, 4) for v in stats.informativeness.tolist()],
        measure=stats.measure,
        variational=stats.variational,
        checkpoint=checkpoint,
        epoch=epoch,
        step=step,
    )
