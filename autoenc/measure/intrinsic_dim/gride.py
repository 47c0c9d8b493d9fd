"""Gride's maximum-likelihood ID (Denti, Doimo, Laio, Mira 2022, Sci. Rep. 12:20005).

For neighbour ranks n1 < n2 the ratio mu = r_{n2} / r_{n1} of a point's distances has the
density (paper, eq. 3)

    f(mu) = d (mu^d - 1)^(n2 - n1 - 1) / (B(n2 - n1, n1) mu^((n2 - 1) d + 1)),   mu >= 1,

so with L = log mu the score of N independent ratios is

    s(d) = N / d + (n2 - n1 - 1) sum L / (1 - exp(-d L)) - (n2 - 1) sum L,

strictly decreasing in d (the log-likelihood is concave), from +inf at d -> 0 to
-n1 sum L < 0: one root. The standard error is 1 / sqrt(-s'(d)) (observed information).
"""

from __future__ import annotations

import numpy as np

from autoenc.core.errors import UserError


def gride_mle(distances: np.ndarray, n1: int, n2: int) -> tuple[float, float]:
    """Maximum-likelihood ID and its standard error from neighbour ranks ``n1 < n2``.

    Args:
        distances: (N, >= n2) float64 ascending distances to each point's nearest neighbours
            (column j is the (j + 1)-th neighbour).
        n1, n2: neighbour ranks, 1 <= n1 < n2.

    Returns:
        (d, standard error).
    """
    log_mu = np.log(distances[:, n2 - 1] / distances[:, n1 - 1])
    n = len(log_mu)
    total = float(log_mu.sum())
    if total <= 0.0:
        raise UserError(
            f"gride: all points have equal distances to neighbours {n1} and {n2}; "
            "the data are too discrete at this scale, raise n1"
        )
    c = n2 - n1 - 1

    def score(d: float) -> float:
        return n / d + c * float(_l_over(d, log_mu).sum()) - (n2 - 1) * total

    def information(d: float) -> float:
        return n / d**2 + c * float(_l2_over_sinh2(d, log_mu).sum())

    d = _decreasing_root(score, information, guess=n / (n1 * total))
    return float(d), float(1.0 / np.sqrt(information(d)))


def _l_over(d: float, log_mu: np.ndarray) -> np.ndarray:
    """L / (1 - exp(-d L)), with its limit 1 / d at L = 0 (tied distances)."""
    dl = d * log_mu
    safe = np.where(dl > 0, dl, 1.0)
    return np.where(dl > 0, log_mu / -np.expm1(-safe), 1.0 / d)


def _l2_over_sinh2(d: float, log_mu: np.ndarray) -> np.ndarray:
    """L^2 / (4 sinh^2(d L / 2)) = -d/dd [L / (1 - exp(-d L))], limit 1 / d^2 at L = 0."""
    half = d * log_mu / 2
    safe = np.where(half > 0, half, 1.0)
    return np.where(half > 0, (log_mu / (2 * np.sinh(safe))) ** 2, 1.0 / d**2)


def _decreasing_root(score, information, guess: float, tol: float = 1e-12) -> float:  # type: ignore[no-untyped-def]
    """Root of a decreasing ``score`` (derivative -``information``): Newton kept in a bracket."""
    lo, hi = guess, guess
    while score(lo) <= 0:
        lo /= 2
    while score(hi) >= 0:
        hi *= 2
    d = min(max(guess, lo), hi)
    for _ in range(200):
        s = score(d)
        if s == 0.0:
            return d
        if s > 0:
            lo = d
        else:
            hi = d
        step = d + s / information(d)
        new = step if lo < step < hi else (lo + hi) / 2
        if abs(new - d) <= tol * d or hi - lo <= tol * d:
            return new
        d = new
    return d
