"""``estimate_all``: every requested ID estimator on one array, with error bars and curves.

Error bars come from repeated subsampling without replacement: each estimator is re-run on
``repeats`` random subsets of ``fraction * N`` points and on smaller subsets ``fraction^j * N``
for a curve of the estimate against sample size (Facco et al. 2017 call it decimation; a flat
curve says the estimate is not limited by N, a drifting one that it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autoenc.core.errors import UserError
from autoenc.measure.intrinsic_dim.estimators import (
    SUBSAMPLE_SIZE,
    Estimate,
    Estimator,
    Sample,
    make_estimator,
)
from autoenc.measure.intrinsic_dim.neighbours import DEFAULT_CHUNK_BYTES, knn
from autoenc.measure.intrinsic_dim.points import as_points, drop_duplicates
from autoenc.measure.intrinsic_dim.result import IDResult, ScaleCurve

if TYPE_CHECKING:
    import torch

DEFAULT_ESTIMATORS: tuple[str, ...] = ("twonn", "mle", "gride", "pca")


def estimate_all(x: Any, estimators: str | Estimator | Sequence[str | Estimator] = DEFAULT_ESTIMATORS, *,
                 repeats: int = 5, fraction: float = 0.5, levels: int = 4, seed: int = 0,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES, device: str | torch.device | None = None) -> list[IDResult]:
    """Intrinsic dimension of a point cloud by several estimators, with uncertainty.

    This is the entry point for any (N, D) float array: raw images, a model's codes,
    cached features. Exact duplicate points are dropped first (with a warning counting
    them). One exact k-nearest-neighbour pass (torch; GPU when present) serves all the
    estimators, k being the largest any of them needs.

    Args:
        x: (N, D) points, or (N, C, H, W) images flattened to (N, C*H*W); numpy array,
            torch tensor or nested lists; any real dtype.
        estimators: one or a list of registered names ("twonn", "mle", "gride", "pca"; see
            ``ESTIMATORS.list()``) or configured instances, e.g. ``[TwoNN(0.2), MLE(k=10)]``.
        repeats: subsamples per size for the spread and the size curves; 0 for none
            (spread None, no size curve), else >= 2.
        fraction: each subsample keeps ``fraction * N`` points, drawn without replacement.
        levels: subsample sizes N f, N f^2, ..., N f^levels on the size curves (sizes too
            small for the neighbours needed are skipped).
        seed: seed of the subsample draws (the estimate on all N points is deterministic).
        chunk_bytes: memory bound (bytes) for each chunk of the neighbour search.
        device: torch device for the neighbour search; default CUDA when available.

    Returns:
        One :class:`IDResult` per estimator, in the order given.

    Raises:
        UserError: bad array (not 2-D+, empty, NaN/inf, all points identical), too few
            points for the neighbours an estimator needs, bad parameters.

    Example:
        >>> results = estimate_all(codes, ["twonn", "mle"], repeats=5)  # doctest: +SKIP
        >>> {r.estimator: (r.value, r.spread) for r in results}  # doctest: +SKIP
    """
    check_resampling(repeats, fraction, levels)
    if isinstance(estimators, str | Estimator):  # one estimator, not a sequence of its letters
        estimators = [estimators]
    if not isinstance(estimators, Sequence):
        raise TypeError(f"estimators must be a name, an Estimator or a list of them, got {type(estimators).__name__}")
    chosen = [make_estimator(e) if isinstance(e, str) else e for e in estimators]
    if not chosen:
        raise UserError("no estimators given; choose from twonn, mle, gride, pca")
    points, duplicates = drop_duplicates(as_points(x))
    k = max(e.neighbours_needed() for e in chosen)
    n = len(points)
    _check_points(n, max(k + 1, 2), chosen, f"{n} unique points are too few")

    def run(idx: np.ndarray | None) -> list[Estimate]:
        sub = points if idx is None else points[idx]
        distances = knn(sub, k, chunk_bytes=chunk_bytes, device=device).distances if k else np.empty((len(sub), 0))
        return [e.estimate(Sample(sub, distances)) for e in chosen]

    full = run(None)
    sizes: list[int] = []
    by_size: list[list[list[Estimate]]] = []  # size -> repeat -> estimator
    if repeats:
        sizes = subsample_sizes(n, fraction, levels, smallest=max(4 * k, 32))
        _check_points(sizes[0], max(k + 1, 3), chosen,
                      f"a subsample with fraction={fraction} keeps {sizes[0]} of {n} points, too few",
                      hint="raise fraction, pass more points, or use repeats=0")
        rng = np.random.default_rng(seed)
        by_size = [[run(np.sort(rng.choice(n, size=s, replace=False))) for _ in range(repeats)] for s in sizes]

    settings = {"repeats": repeats, "fraction": fraction, "levels": levels, "seed": seed}
    results = []
    for i, est in enumerate(chosen):
        values = [[r[i].value for r in runs] for runs in by_size]  # values[j][r]: size sizes[j], repeat r
        curve = full[i].curve
        if est.curve_axis == SUBSAMPLE_SIZE and values:
            curve = ScaleCurve(SUBSAMPLE_SIZE, x=[float(n), *map(float, sizes)],
                               value=[full[i].value, *(float(np.mean(v)) for v in values)],
                               error=[None, *(float(np.std(v, ddof=1)) for v in values)])
        spread = jackknife_spread(values[0], fraction) if values else None
        results.append(IDResult(estimator=est.name, value=full[i].value, spread=spread, n=n,
                                parameters={**est.parameters(), **settings}, linear=est.linear,
                                extra=full[i].extra, curve=curve, duplicates=duplicates))
    return results


def _check_points(n: int, needed: int, chosen: Sequence[Estimator], what: str,
                  hint: str = "pass more points or ask for fewer neighbours") -> None:
    if n < needed:
        worst = max(chosen, key=lambda e: e.neighbours_needed())
        params = ", ".join(f"{k}={v}" for k, v in worst.parameters().items())
        raise UserError(f"{what}: {worst.name} ({params}) needs {needed - 1} neighbours per point, "
                        f"so at least {needed} points; {hint}")


def check_resampling(repeats: int, fraction: float, levels: int) -> None:
    """Raise a UserError for settings that cannot give a spread."""
    if int(repeats) != repeats or repeats < 0 or repeats == 1:
        raise UserError(f"repeats must be 0 (no error bars) or an integer >= 2, got {repeats}")
    if not 0.0 < fraction < 1.0:
        raise UserError(f"fraction (of points per subsample) must be in (0, 1), got {fraction}")
    if int(levels) != levels or levels < 1:
        raise UserError(f"levels (subsample sizes on the curve) must be >= 1, got {levels}")


def subsample_sizes(n: int, fraction: float, levels: int, smallest: int) -> list[int]:
    """Sizes round(n * fraction^j), j = 1..levels; from j = 2 only those >= ``smallest``."""
    sizes = [round(n * fraction**j) for j in range(1, levels + 1)]
    return sizes[:1] + [s for s in sizes[1:] if s >= smallest and s < sizes[0]]


def jackknife_spread(values: Sequence[float], fraction: float) -> float:
    """Standard error of the full-data estimate from estimates on subsamples of fraction f.

    Delete-d jackknife (Shao & Wu 1989, Ann. Stat. 17:1176): keeping r = f N points and
    deleting d = (1 - f) N, Var(theta_N) ~ (r / d) Var(theta_r), so the spread is
    sqrt(f / (1 - f)) times the standard deviation over subsamples; at f = 0.5 exactly the
    standard deviation of half-sample estimates.
    """
    values = np.asarray(values, dtype=np.float64)
    return float(np.sqrt(fraction / (1.0 - fraction)) * values.std(ddof=1))
