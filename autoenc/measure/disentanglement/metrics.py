"""The registry of disentanglement metrics and one call that runs the chosen ones.

Two kinds of metric: ``codes`` metrics are functions of (codes, factors) arrays
(``fn(codes, factors, codes_test=None, factors_test=None, seed=0, **options)``);
``generator`` metrics render their own images (``fn(encode, ground_truth, seed=0, **options)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from autoenc.core.errors import UserError
from autoenc.core.registry import Registry
from autoenc.data.ground_truth import GroundTruth
from autoenc.measure.disentanglement.arrays import MetricResult
from autoenc.measure.disentanglement.information import mig
from autoenc.measure.disentanglement.interventional import Encode, beta_vae_score, factor_vae_score
from autoenc.measure.disentanglement.predictors import dci, sap


@dataclass(frozen=True)
class Metric:
    """A registered metric: ``fn`` returns a :class:`MetricResult`; ``kind`` says what it takes."""

    fn: Callable[..., MetricResult]
    kind: Literal["codes", "generator"]
    summary: str
    #: fewest ground-truth factors the metric means something with (DCI disentanglement is 1
    #: for any codes with one factor; the interventional scores tell factors apart).
    min_factors: int = 1


METRICS: Registry[Metric] = Registry("disentanglement metric")
METRICS.register("mig", Metric(mig, "codes", "Mutual Information Gap (Chen et al. 2018)"))
METRICS.register("dci", Metric(dci, "codes", "DCI disentanglement / completeness / informativeness "
                                             "(Eastwood & Williams 2018)", min_factors=2))
METRICS.register("sap", Metric(sap, "codes", "SAP score (Kumar et al. 2018)"))
METRICS.register("factor_vae", Metric(factor_vae_score, "generator", "FactorVAE score (Kim & Mnih 2018)",
                                                   min_factors=2))
METRICS.register("beta_vae", Metric(beta_vae_score, "generator", "beta-VAE score (Higgins et al. 2017)",
                                                 min_factors=2))


def check_factor_count(name: str, factor_names: Sequence[str]) -> None:
    """Refuse, in one line, a metric that needs more factors than the ground truth has."""
    need = METRICS.get(name).min_factors
    if len(factor_names) < need:
        usable = [m for m in METRICS.list() if METRICS.get(m).min_factors <= len(factor_names)]
        raise UserError(f"metric {name!r} needs at least {need} ground-truth factors and this one has "
                        f"{len(factor_names)} ({', '.join(factor_names)}); metrics that work with "
                        f"{len(factor_names)}: {', '.join(usable)}")


def evaluate(metrics: Sequence[str], codes: Any = None, factors: Any = None, encode: Encode | None = None,
             ground_truth: GroundTruth | None = None, seed: int = 0,
             options: dict[str, dict[str, Any]] | None = None) -> dict[str, MetricResult]:
    """Run the named metrics (see :data:`METRICS`).

    Args:
        metrics: registry names, e.g. ["mig", "dci"].
        codes, factors: (N, D) floats and (N, K) integer factor indices, for ``codes`` metrics.
        encode, ground_truth: for ``generator`` metrics (uint8 images -> codes; the sampler).
        seed: passed to every metric.
        options: metric name -> extra keyword arguments.

    Returns:
        name -> result, in the order asked.
    """
    options = options or {}
    unknown = sorted(set(options) - set(metrics))
    if unknown:
        raise UserError(f"options given for {unknown[0]!r}, which is not among the metrics run ({', '.join(metrics)})")
    results = {}
    for name in metrics:
        metric = METRICS.get(name)
        if metric.kind == "codes":
            if codes is None or factors is None:
                raise UserError(f"metric {name!r} needs codes and factors")
            results[name] = metric.fn(codes, factors, seed=seed, **options.get(name, {}))
        else:
            if encode is None or ground_truth is None:
                raise UserError(f"metric {name!r} renders images and needs an encode function and a ground truth")
            results[name] = metric.fn(encode, ground_truth, seed=seed, **options.get(name, {}))
    return results


def flat_scores(results: dict[str, MetricResult]) -> dict[str, float]:
    """All scores of ``results`` in one mapping (score names are unique across metrics)."""
    return {k: float(np.round(v, 6)) for result in results.values() for k, v in result.scores.items()}
