"""Checking and cleaning the points an ID estimate is computed on."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from autoenc.core.errors import UserError


class DuplicatePointsWarning(UserWarning):
    """Exact duplicate points were dropped (zero distances break TwoNN, MLE and Gride)."""


def as_points(x: Any) -> np.ndarray:
    """Validate ``x`` and return it as an (N, D) float64 array.

    Args:
        x: (N, D) array of N points, or (N, C, H, W) / (N, ...) images flattened to
            (N, C*H*W); numpy array, torch tensor or nested sequence of real numbers.

    Raises:
        UserError: not numeric, fewer than 2 dimensions, empty, or NaN / inf values.
    """
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise UserError(f"points must be a numeric (N, D) array: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise UserError(f"points must be a real-valued (N, D) array, got dtype {arr.dtype}; "
                        "convert it with np.asarray(x, dtype=float)")
    if arr.ndim < 2:
        raise UserError(f"points must be an (N, D) array (or (N, C, H, W) images), got shape {arr.shape}; "
                        "for N scalars use x.reshape(-1, 1)")
    if arr.size == 0:
        raise UserError(f"points array is empty (shape {arr.shape}); pass at least a few points")
    points = np.asarray(arr.reshape(arr.shape[0], -1), dtype=np.float64)
    bad = ~np.isfinite(points)
    if bad.any():
        raise UserError(f"points contain {int(bad.sum())} NaN or inf values in {int(bad.any(1).sum())} of "
                        f"{len(points)} rows; drop those rows or fix the values first")
    return points


def drop_duplicates(points: np.ndarray) -> tuple[np.ndarray, int]:
    """Remove exact duplicate rows, keeping each row's first occurrence in input order.

    Args:
        points: (N, D) float64, finite.

    Returns:
        (M, D) unique rows and the number N - M dropped. A warning
        (:class:`DuplicatePointsWarning`) counts them when any were dropped.

    Raises:
        UserError: all points are identical (the dimension is undefined).
    """
    # + 0.0 maps -0.0 to 0.0, so rows compare by value through their bytes.
    clean = np.ascontiguousarray(points + 0.0)
    rows = clean.view(np.dtype((np.void, clean.dtype.itemsize * clean.shape[1]))).ravel()
    _, first = np.unique(rows, return_index=True)
    dropped = len(points) - len(first)
    if len(first) == 1 and len(points) > 1:
        raise UserError(f"all {len(points)} points are identical; the intrinsic dimension is undefined")
    if dropped:
        warnings.warn(f"dropped {dropped} duplicate points of {len(points)} (zero distances break TwoNN, MLE "
                      f"and Gride); estimating on the {len(first)} unique points", DuplicatePointsWarning,
                      stacklevel=3)
    return clean[np.sort(first)], dropped
