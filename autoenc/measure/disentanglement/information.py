"""Mutual information between latents and factors, and the Mutual Information Gap.

Definitions follow disentanglement_lib (Locatello et al. 2019, ``evaluation/metrics/mig.py``
and ``utils.py``): each latent is discretised into ``num_bins`` equal-width bins between its
minimum and maximum (``np.histogram`` edges, 20 bins), and the discrete mutual information
I(z_j; v_k) is computed from the joint counts in nats (what ``sklearn.metrics.mutual_info_score``
returns). MIG (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", Eq. 6) is
the mean over factors of the gap between the two largest I(z_j; v_k), divided by H(v_k).

``binning="quantile"`` uses each latent's quantiles as edges instead (equal-count bins), which
a single outlying code cannot squeeze into one bin; equal-width is disentanglement_lib's.

Everything is vectorised: one ``bincount`` per factor for all latents at once.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.special import entr, rel_entr

from autoenc.core.constraints import Interval, check_param
from autoenc.core.errors import UserError
from autoenc.measure.disentanglement.arrays import MetricResult, check_pair

DEFAULT_BINS = 20
Binning = Literal["equal_width", "quantile"]
BINNINGS: tuple[str, ...] = ("equal_width", "quantile")
#: At least this many samples per bin on average, else the histogram estimate of I is noise.
MIN_SAMPLES_PER_BIN = 5


def _check_bins(num_bins: int) -> int:
    return int(check_param("num_bins", [Interval(int, 2, None, closed="left")], num_bins))


def discretize(codes: np.ndarray, num_bins: int = DEFAULT_BINS, binning: Binning = "equal_width") -> np.ndarray:
    """codes (N, D) float -> (N, D) int64 bin indices 0..num_bins-1.

    ``equal_width``: bins of equal width between each latent's min and max, a value on an inner
    edge going to the upper bin (as ``np.digitize(x, np.histogram(x, num_bins)[1][:-1]) - 1``,
    disentanglement_lib). ``quantile``: the edges are the latent's k / num_bins quantiles
    (equal counts; tied values share a bin). A constant latent lands in one bin."""
    num_bins = _check_bins(num_bins)
    if binning not in BINNINGS:
        raise UserError(f"binning must be one of {', '.join(BINNINGS)}, got {binning!r}")
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        if binning == "quantile":
            edges = np.quantile(codes[:, j], np.linspace(0.0, 1.0, num_bins + 1))
        else:
            edges = np.histogram_bin_edges(codes[:, j], num_bins)
        out[:, j] = np.clip(np.searchsorted(edges[:-1], codes[:, j], side="right") - 1, 0, num_bins - 1)
    return out


def discrete_mutual_info(bins: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """I(bins_j; factors_k) in nats for every pair.

    Args:
        bins: (N, D) int64 in 0..B-1 (discretised latents).
        factors: (N, K) int64 in 0..n_k-1.

    Returns:
        (D, K) float64, nats.
    """
    n, d = bins.shape
    num_bins = int(bins.max()) + 1 if bins.size else 1
    out = np.empty((d, factors.shape[1]))
    offsets = np.arange(d) * num_bins
    p_bin = np.stack([np.bincount(bins[:, j], minlength=num_bins) for j in range(d)]) / n  # (D, B)
    for k in range(factors.shape[1]):
        values = int(factors[:, k].max()) + 1
        cell = ((bins + offsets) * values + factors[:, k : k + 1]).ravel()
        joint = np.bincount(cell, minlength=d * num_bins * values).reshape(d, num_bins, values) / n
        p_factor = np.bincount(factors[:, k], minlength=values) / n
        # sum p log(p / q) with 0 log 0 = 0 (q > 0 wherever p > 0: q is the product of p's marginals)
        out[:, k] = rel_entr(joint, p_bin[:, :, None] * p_factor[None, None, :]).sum(axis=(1, 2))
    return np.maximum(out, 0.0)


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """factors (N, K) int64 -> (K,) entropies H(v_k) in nats."""
    return np.array([entr(np.bincount(factors[:, k]) / len(factors)).sum() for k in range(factors.shape[1])])


def _checked(codes: Any, factors: Any, num_bins: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    num_bins = _check_bins(num_bins)
    need = num_bins * MIN_SAMPLES_PER_BIN
    return check_pair(codes, factors, need, f"{what} bins each latent into {num_bins} bins and needs "
                                            f"{MIN_SAMPLES_PER_BIN} codes per bin")


def mutual_info_matrix(codes: Any, factors: Any, num_bins: int = DEFAULT_BINS,
                       binning: Binning = "equal_width") -> np.ndarray:
    """The latents x factors mutual-information matrix.

    Args:
        codes: (N, D) floats; factors: (N, K) integer factor indices.
        num_bins: equal-width bins per latent (disentanglement_lib: 20).

    Returns:
        (D, K) float64, I(z_j; v_k) in nats.
    """
    codes, factors = _checked(codes, factors, num_bins, "the mutual information")
    return discrete_mutual_info(discretize(codes, num_bins, binning), factors)


def mig(codes: Any, factors: Any, codes_test: Any = None, factors_test: Any = None,
        num_bins: int = DEFAULT_BINS, seed: int = 0, binning: Binning = "equal_width") -> MetricResult:
    """Mutual Information Gap (Chen et al. 2018), as disentanglement_lib computes it.

    MIG = mean_k (I(z_(1); v_k) - I(z_(2); v_k)) / H(v_k), where z_(1), z_(2) are the latents
    with the largest and second largest mutual information with factor v_k. 1 when every
    factor is carried by exactly one latent (and fully), 0 when no latent stands out.

    Args:
        codes: (N, D) floats, D >= 2; factors: (N, K) integer factor indices.
        codes_test, factors_test: MIG fits nothing, so a test split, when given, is pooled
            with the codes.
        num_bins: bins per latent (20 as disentanglement_lib).
        binning: ``equal_width`` (disentanglement_lib) or ``quantile`` (see :func:`discretize`).
        seed: unused (MIG is deterministic); accepted like every metric's.

    Returns:
        scores ``mig``; matrices ``mutual_info`` (D, K) nats; details ``mig_per_factor`` (K,)
        and ``factor_entropy`` (K,) nats.
    """
    if (codes_test is None) != (factors_test is None):
        raise UserError("give both codes_test and factors_test, or neither")
    if codes_test is not None:
        codes = np.concatenate([np.asarray(codes), np.asarray(codes_test)])
        factors = np.concatenate([np.asarray(factors), np.asarray(factors_test)])
    codes, factors = _checked(codes, factors, num_bins, "MIG")
    if codes.shape[1] < 2:
        raise UserError("MIG compares the two most informative latents and needs at least 2; the codes have 1")
    m = discrete_mutual_info(discretize(codes, num_bins, binning), factors)
    entropy = discrete_entropy(factors)
    top = np.sort(m, axis=0)[::-1]
    per_factor = (top[0] - top[1]) / entropy
    return MetricResult(scores={"mig": float(per_factor.mean())}, matrices={"mutual_info": m},
                        details={"mig_per_factor": per_factor.tolist(), "factor_entropy": entropy.tolist()})
