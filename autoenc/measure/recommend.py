"""Which latent size to pick: summaries over seeds and a stated rule.

The rule (:class:`Rule`) combines two answers and takes the larger:

* **reconstruction**: the smallest size whose mean reconstruction term is within
  ``recon_tolerance`` of the best, measured on the sweep's range:
  ``recon(k) - best <= max(recon_tolerance * (worst - best), SE(best))``, SE being the
  standard error of the best size's mean over seeds (0 with one seed). Using the range
  makes the tolerance independent of the likelihood's constant (Gaussian NLLs can be
  negative), and the standard error keeps seed noise from deciding.
* **intrinsic dimension**: the smallest size after which the codes' TwoNN ID stops growing:
  no larger size has an ID more than ``id_tolerance`` (relative) above it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from autoenc.core.errors import UserError
from autoenc.measure.codes import ACTIVE_THRESHOLD

SUMMARY_METRICS = ("recon", "kl", "neg_elbo", "active_units", "twonn", "probe_accuracy")


@dataclass(frozen=True)
class SizeSummary:
    """The metrics of one latent size over its seeds.

    Attributes:
        latent_dim: the size.
        n: number of seeds (runs) measured.
        mean: metric -> mean over seeds (NaN when the metric is undefined for the model/data).
        std: metric -> standard deviation over seeds (ddof = 1; 0 with one seed).
    """

    latent_dim: int
    n: int
    mean: dict[str, float]
    std: dict[str, float]

    def sem(self, metric: str) -> float:
        """Standard error of the mean of ``metric`` (0 with one seed)."""
        return self.std[metric] / math.sqrt(self.n) if self.n > 1 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"latent_dim": self.latent_dim, "n": self.n, "mean": _finite(self.mean), "std": _finite(self.std)}


def _finite(values: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


def summarize(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str] = SUMMARY_METRICS) -> list[SizeSummary]:
    """Rows with ``latent_dim`` and metric values (one row per size and seed) -> one
    :class:`SizeSummary` per size, ascending. Missing values (None) are left out of the mean."""
    sizes = sorted({int(r["latent_dim"]) for r in rows})
    out = []
    for k in sizes:
        mine = [r for r in rows if int(r["latent_dim"]) == k]
        mean, std = {}, {}
        for m in metrics:
            values = [float(r[m]) for r in mine if r.get(m) is not None and math.isfinite(float(r[m]))]
            mean[m] = statistics.fmean(values) if values else math.nan
            std[m] = statistics.stdev(values) if len(values) > 1 else (0.0 if values else math.nan)
        out.append(SizeSummary(k, len(mine), mean, std))
    return out


@dataclass(frozen=True)
class Rule:
    """The recommendation rule (see the module docstring).

    Attributes:
        recon_tolerance: share of the sweep's reconstruction range (worst - best) a size may
            lose against the best, in [0, 1).
        id_tolerance: relative ID growth above a size that still counts as "stopped", >= 0.
    """

    recon_tolerance: float = 0.05
    id_tolerance: float = 0.10

    def __post_init__(self) -> None:
        if not 0.0 <= self.recon_tolerance < 1.0:
            raise UserError(f"recon tolerance must be in [0, 1), got {self.recon_tolerance}; e.g. 0.05")
        if not self.id_tolerance >= 0.0:
            raise UserError(f"ID tolerance must be >= 0, got {self.id_tolerance}; e.g. 0.1")

    def describe(self) -> str:
        """The rule in one sentence."""
        return (f"the larger of (a) the smallest size whose reconstruction is within "
                f"{self.recon_tolerance:.0%} of the best (recon(k) - best <= {self.recon_tolerance:g} x "
                f"(worst - best), or within one standard error of the best) and (b) the smallest size "
                f"after which the codes' TwoNN ID stops growing (no larger size more than "
                f"{self.id_tolerance:.0%} above it)")


@dataclass(frozen=True)
class Recommendation:
    """The chosen latent size and why.

    Attributes:
        latent_dim: the recommended size, max(by_recon, by_id).
        by_recon: the answer of the reconstruction criterion.
        by_id: the answer of the ID criterion (None without ID estimates).
        rule: :meth:`Rule.describe`.
        reason: the numbers behind both answers, one line.
    """

    latent_dim: int
    by_recon: int
    by_id: int | None
    rule: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        return f"recommended latent size: {self.latent_dim}\nrule: {self.rule}\nwhy: {self.reason}"


def _check_table(sizes: Sequence[int], columns: Mapping[str, Sequence[float] | None]) -> list[int]:
    sizes = [int(k) for k in sizes]
    if not sizes:
        raise UserError("no sizes to recommend from; the sweep measured nothing")
    if sorted(set(sizes)) != sizes:
        raise UserError(f"sizes must be ascending without repeats, got {sizes}")
    for name, column in columns.items():
        if column is not None and len(column) != len(sizes):
            raise UserError(f"{name} has {len(column)} values for {len(sizes)} sizes")
    return sizes


def by_reconstruction(sizes: Sequence[int], recon: Sequence[float], recon_error: Sequence[float] | None,
                      tolerance: float) -> tuple[int, str]:
    """Smallest size with recon(k) - best <= max(tolerance * (worst - best), error of the best)."""
    if not all(math.isfinite(v) for v in recon):
        raise UserError(f"reconstruction values must be finite, got {list(recon)}")
    best_i = min(range(len(sizes)), key=lambda i: recon[i])
    best, worst = recon[best_i], max(recon)
    slack = max(tolerance * (worst - best), recon_error[best_i] if recon_error is not None else 0.0)
    k = next(s for s, v in zip(sizes, recon, strict=True) if v - best <= slack)
    note = "; still improving at the largest size, try larger sizes" if best_i == len(sizes) - 1 and k == sizes[-1] else ""
    return k, (f"reconstruction {recon[sizes.index(k)]:.4g} nats at size {k} is within {slack:.3g} of the best "
               f"{best:.4g} (size {sizes[best_i]}){note}")


def by_intrinsic_dimension(sizes: Sequence[int], ids: Sequence[float], tolerance: float) -> tuple[int | None, str]:
    """Smallest size (with an ID) above which no size's ID exceeds ID(k) * (1 + tolerance)."""
    known = [(s, v) for s, v in zip(sizes, ids, strict=True) if math.isfinite(v)]
    if not known:
        return None, "no ID estimates"
    for i, (k, value) in enumerate(known):
        above = [v for _, v in known[i + 1:]]
        if all(v <= value * (1.0 + tolerance) for v in above):
            top = f", at most {max(above):.3g} above" if above else ""
            note = "; the ID still grows at the largest size, try larger sizes" if i == len(known) - 1 and i else ""
            return k, f"codes' TwoNN ID {value:.3g} at size {k}{top}{note}"
    raise AssertionError("unreachable: the largest size always qualifies")


def recommend(sizes: Sequence[int], recon: Sequence[float], *, recon_error: Sequence[float] | None = None,
              ids: Sequence[float] | None = None, rule: Rule = Rule()) -> Recommendation:
    """Recommend a latent size from per-size means.

    Args:
        sizes: latent sizes, ascending.
        recon: mean reconstruction term per size (nats per image; lower is better).
        recon_error: standard error of each mean over seeds (None: one seed).
        ids: mean TwoNN ID of the codes per size (NaN where unknown; None: no ID criterion).
        rule: tolerances of the two criteria.
    """
    sizes = _check_table(sizes, {"recon": recon, "recon_error": recon_error, "ids": ids})
    k_recon, why_recon = by_reconstruction(sizes, list(recon), recon_error, rule.recon_tolerance)
    k_id, why_id = (None, "no ID estimates") if ids is None else by_intrinsic_dimension(sizes, list(ids),
                                                                                        rule.id_tolerance)
    chosen = k_recon if k_id is None else max(k_recon, k_id)
    reason = f"(a) {why_recon}; (b) {why_id}; max -> {chosen}"
    return Recommendation(chosen, k_recon, k_id, rule.describe(), reason)


def recommend_summary(summary: Sequence[SizeSummary], rule: Rule = Rule()) -> Recommendation:
    """:func:`recommend` on the means (and standard errors) of a sweep's summaries."""
    sizes = [s.latent_dim for s in summary]
    return recommend(sizes, [s.mean["recon"] for s in summary], recon_error=[s.sem("recon") for s in summary],
                     ids=[s.mean.get("twonn", math.nan) for s in summary], rule=rule)


@dataclass(frozen=True)
class Metric:
    """A measured quantity: column name, axis label, and which direction is better."""

    name: str
    label: str
    better: str  # "lower", "higher" or "" (neither)


#: Every metric a sweep reports, in the order of the figure's panels.
METRICS: tuple[Metric, ...] = (
    Metric("recon", "reconstruction (nats / image)", "lower"),
    Metric("neg_elbo", "negative ELBO (nats / image)", "lower"),
    Metric("twonn", "TwoNN ID of the codes", ""),
    Metric("active_units", f"active units (Cov > {ACTIVE_THRESHOLD:g})", ""),
    Metric("probe_accuracy", "linear-probe accuracy", "higher"),
)


@dataclass
class SweepCurves:
    """What a sweep's figure shows: per size, the metrics' means and spreads over seeds, and
    the recommended size (:class:`~autoenc.workflows.sweep.orchestrate.SweepResult` is one).

    Attributes:
        name: the config's run name.
        ordered: one nested-dropout model per seed (prefix sizes), or one model per size.
        sizes, seeds: what was swept.
        summary: per size, means and standard deviations over seeds (:class:`SizeSummary`).
        recommendation: the chosen size, the rule and the numbers behind it.
        size_option: the model option the sweep varied (``latent_dim``, ``latent_channels`` or ``k``).
    """

    name: str
    ordered: bool
    sizes: list[int]
    seeds: list[int]
    summary: list[SizeSummary]
    recommendation: Recommendation
    size_option: str = "latent_dim"
