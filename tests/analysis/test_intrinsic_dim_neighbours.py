"""Exact k nearest neighbours with torch: equal to scikit-learn, independent of chunking."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from autoenc.core.errors import UserError
from autoenc.measure.intrinsic_dim import estimate_all, knn


def sklearn_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return NearestNeighbors(n_neighbors=k, algorithm="brute").fit(x).kneighbors()


@pytest.mark.parametrize(
    ("n", "dim", "k"),
    [(200, 3, 5), (1000, 40, 20), (5000, 16, 21)],  # the last uses the group-minimum selection
)
def test_equal_to_sklearn_on_random_data(n, dim, k):
    x = np.random.default_rng(n).standard_normal((n, dim))
    got = knn(x, k, device="cpu")
    dist, idx = sklearn_knn(x, k)
    assert got.distances.shape == (n, k) and got.distances.dtype == np.float64
    np.testing.assert_allclose(got.distances, dist, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got.indices, idx)
    assert np.all(np.diff(got.distances, axis=1) >= 0)
    assert not np.any(got.indices == np.arange(n)[:, None])  # never itself


@pytest.mark.parametrize("n", [1500, 4200])  # row top-k / group-minimum selection
def test_chunking_does_not_change_results(n):
    x = np.random.default_rng(1).standard_normal((n, 8))
    whole = knn(x, 12, chunk_bytes=2**30)
    chunk = 97 * 4 * (n + 16) + 5  # 97 rows of float32 keys: an uneven last chunk
    part = knn(x, 12, chunk_bytes=chunk)
    np.testing.assert_array_equal(part.distances, whole.distances)
    np.testing.assert_array_equal(part.indices, whole.indices)
    results = [
        r.value
        for c in (2**30, chunk)
        for r in estimate_all(x, ["twonn", "mle"], repeats=0, chunk_bytes=c)
    ]
    assert results[:2] == results[2:]


def test_float32_unresolvable_rows_fall_back_to_float64():
    # Two tight clusters far apart: neighbour distances (~1e-5) are far below the float32
    # rounding of keys of norm ~1e3, so the certificate fails and rows are redone in float64.
    rng = np.random.default_rng(3)
    cluster = rng.standard_normal((300, 4)) * 1e-5
    x = np.concatenate([cluster + 1e3, cluster[::-1] * 1.3 - 1e3])
    got = knn(x, 6)
    exact = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)  # from differences
    np.fill_diagonal(exact, np.inf)
    idx = np.argsort(exact, axis=1, kind="stable")[:, :6]
    assert got.fallback_rows > 0
    np.testing.assert_allclose(got.distances, np.take_along_axis(exact, idx, 1), rtol=1e-12)
    np.testing.assert_array_equal(got.indices, idx)
    # sklearn's float64 expansion ||a||^2 + ||b||^2 - 2ab loses these distances entirely
    assert (sklearn_knn(x, 6)[0] == 0).any()


def test_exact_for_close_points_far_from_the_origin():
    # float32 GEMM distances would lose these 1e-4 offsets next to 1e4 coordinates; the
    # float64 refinement keeps the ratio r2 / r1 that TwoNN reads exact.
    x = np.random.default_rng(4).standard_normal((500, 3)) * 1e-4 + 1e4
    got = knn(x, 2)
    dist, _ = sklearn_knn(x - 1e4, 2)
    np.testing.assert_allclose(got.distances, dist, rtol=1e-6)


@pytest.mark.parametrize(
    ("k", "chunk", "match"),
    [
        (0, 2**20, r"k must be between 1 and N - 1 = 9 neighbours, got k=0"),
        (10, 2**20, r"k must be between 1 and N - 1 = 9"),
        (3, 8, r"chunk_bytes=8 is smaller than one row"),
    ],
)
def test_bad_arguments(k, chunk, match):
    with pytest.raises(UserError, match=match):
        knn(np.random.default_rng(0).standard_normal((10, 2)), k, chunk_bytes=chunk)
