"""Checking and splitting the arrays every disentanglement metric takes.

``codes`` are (N, D) floats (one row per image: the representation, e.g. a VAE's posterior
mean); ``factors`` are (N, K) integer factor indices of the same images. Each distinct value
of a factor column is one class (columns are re-indexed 0..n_k-1 in sorted order), so the
metrics do not care whether indices are contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoenc.core.errors import UserError

#: Fraction of the codes held out as the test split when none is given (disentanglement_lib
#: evaluates DCI and SAP on 10,000 training and 5,000 test points: one third).
DEFAULT_TEST_FRACTION = 1 / 3


@dataclass
class MetricResult:
    """What a metric returns.

    Attributes:
        scores: name -> value (e.g. ``{"mig": 0.31}``); floats, mostly in [0, 1].
        matrices: name -> array a researcher may want to draw (e.g. the (D, K) importance
            matrix of DCI, latents x factors).
        details: anything else worth recording (sizes, per-factor values), JSON-able.
    """

    scores: dict[str, float]
    matrices: dict[str, np.ndarray] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.scores[name]


def _array(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def check_codes(codes: Any, what: str = "codes") -> np.ndarray:
    """``codes`` as (N, D) float64; refuses other shapes, non-numbers, NaN and inf."""
    array = _array(codes)
    if array.ndim != 2 or array.shape[1] < 1:
        raise UserError(f"{what} must be an (N, D) array of floats, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise UserError(f"{what} must be numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise UserError(f"{what} hold {int(bad.sum())} NaN or infinite values (first at row {row}, latent {col}); "
                        "the model or its data produced non-finite codes")
    return array


def check_factors(factors: Any, n: int | None = None, what: str = "factors") -> np.ndarray:
    """``factors`` as (N, K) int64 class indices 0..n_k-1 per column.

    Raises:
        UserError: wrong shape, a length other than ``n``, non-integer values, or a column
            with a single value (a constant factor says nothing about the codes).
    """
    array = _array(factors)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] < 1:
        raise UserError(f"{what} must be an (N, K) array of integer factor indices, got shape {array.shape}")
    if n is not None and len(array) != n:
        raise UserError(f"codes and {what} must describe the same images: {n} codes but {len(array)} rows of {what}")
    if np.issubdtype(array.dtype, np.floating):
        fractional = ~np.isfinite(array) | (array != np.round(array))
        if fractional.any():
            row, col = np.argwhere(fractional)[0]
            raise UserError(f"{what} must be integer factor indices; column {col} holds {array[row, col]!r} "
                            "(map values to indices, e.g. np.unique(values, return_inverse=True)[1])")
    elif not np.issubdtype(array.dtype, np.integer):
        raise UserError(f"{what} must be integer factor indices, got dtype {array.dtype}")
    out = np.empty(array.shape, dtype=np.int64)
    for k in range(array.shape[1]):
        values, out[:, k] = np.unique(array[:, k], return_inverse=True)
        if len(values) < 2 and len(array):
            raise UserError(f"factor {k} of {what} is constant (always {values[0]!r}); drop it, a factor "
                            "that never varies cannot be measured")
    return out


def check_pair(codes: Any, factors: Any, min_samples: int = 2, why: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Checked (codes (N, D) float64, factors (N, K) int64) of the same N >= ``min_samples``."""
    codes = check_codes(codes)
    if len(codes) < min_samples:
        reason = f" ({why})" if why else ""
        raise UserError(f"{len(codes)} codes are too few: at least {min_samples} are needed{reason}")
    return codes, check_factors(factors, len(codes))


def check_split(codes: Any, factors: Any, codes_test: Any, factors_test: Any, seed: int,
                test_fraction: float = DEFAULT_TEST_FRACTION, min_samples: int = 2
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes, factors, codes_test, factors_test), checked. Without a test split, a seeded
    random ``test_fraction`` of the codes becomes one (same seed, same split). Factor values
    are indexed jointly over both splits, so a value means the same class in each."""
    if (codes_test is None) != (factors_test is None):
        raise UserError("give both codes_test and factors_test, or neither (a test split is then drawn)")
    codes_all = check_codes(codes)
    if codes_test is None:
        if not 0.0 < test_fraction < 1.0:
            raise UserError(f"test_fraction must be in (0, 1), got {test_fraction}")
        factors_all = check_factors(factors, len(codes_all))
        n = len(codes_all)
        n_test = int(round(n * test_fraction))
        if n - n_test < min_samples or n_test < 1:
            raise UserError(f"{n} codes are too few to split into training and test codes; need at least "
                            f"{int(np.ceil(min_samples / (1 - test_fraction))) + 1}")
        order = np.random.default_rng(seed).permutation(n)
        train, test = np.sort(order[n_test:]), np.sort(order[:n_test])
        return codes_all[train], factors_all[train], codes_all[test], factors_all[test]
    codes_test = check_codes(codes_test, "codes_test")
    if codes_test.shape[1] != codes_all.shape[1]:
        raise UserError(f"codes have {codes_all.shape[1]} latents but codes_test {codes_test.shape[1]}")
    if len(codes_all) < min_samples or len(codes_test) < 1:
        raise UserError(f"{len(codes_all)} training and {len(codes_test)} test codes are too few; "
                        f"need at least {min_samples} and 1")
    check_factors(factors, len(codes_all))  # shape and count; a factor constant in training cannot be learned
    raw, raw_test = _array(factors).reshape(len(codes_all), -1), _array(factors_test)
    raw_test = raw_test[:, None] if raw_test.ndim == 1 else raw_test
    if raw_test.shape != (len(codes_test), raw.shape[1]):
        raise UserError(f"factors_test must hold one row of {raw.shape[1]} factor indices per test code, "
                        f"({len(codes_test)}, {raw.shape[1]}), got shape {raw_test.shape}")
    joint = check_factors(np.concatenate([raw, raw_test]), what="factors and factors_test")
    return codes_all, joint[: len(raw)], codes_test, joint[len(raw):]
