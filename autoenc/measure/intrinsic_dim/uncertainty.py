"""Error bars from repeated subsampling without replacement.

Each estimator is re-run on ``repeats`` random subsets of ``fraction * N`` points (drawn
without replacement) and on smaller subsets ``fraction^j * N`` for a curve of the estimate
against sample size (Facco et al. 2017 call it decimation; a flat curve says the estimate is
not limited by N, a drifting one that it is).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autoenc.core.errors import UserError


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
