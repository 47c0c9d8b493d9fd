"""Exact k-nearest-neighbour distances with torch: chunked GEMM + selection, float64 refinement.

How the k nearest neighbours of every point are found (no trees; one pass of GEMMs):

1. Candidates in float32. For a chunk of query rows ``a`` the ranking key to every point
   ``b`` is ``||b||^2 - 2 a.b`` (``||a||^2`` is constant along a row and does not change the
   order). Appending a column of ones to the queries and ``||b||^2`` to the points makes the
   key ONE matrix product: no extra pass over the (rows, N) block to add norms. float32
   because its GEMM is ~2x faster than float64 on CPUs and far faster on most GPUs; steps 2
   and 3 give back float64 accuracy. ``m = k + margin`` candidates are kept per row: for long rows through
   group minima (the row is split into ``g`` strided slices; an element-wise ``amin`` over
   them is one vectorised pass, ``topk`` then only looks at ``N / g`` minima and at the
   ``g * m`` members of the winning groups), otherwise by ``topk`` on the row.
2. Exact distances in float64. The candidates' distances are recomputed from coordinate
   differences in float64 (no cancellation), sorted, and the first ``k`` kept. Neighbour
   ratios (TwoNN, MLE, Gride) therefore carry float64 accuracy even for points whose
   nearest neighbour is very close compared with their distance from the centroid.
3. A certificate. A float32 key of a point ``b`` is off by at most
   ``delta = (D + 5) u (R + ||a||)^2`` (``u = 2^-24``, ``R`` the largest norm, to which
   the keys are scaled so no data scale overflows or underflows float32; Higham,
   *Accuracy and Stability of Numerical Algorithms*, eq. 3.5, plus the rounding of the
   inputs). Every point left out has key >= ``t``, the largest kept key, so its true squared
   distance is >= ``t + ||a||^2 - delta``. When the k-th exact candidate distance is below
   that, the row is provably exact; otherwise the row's distances to all points are
   recomputed from differences in float64 (slow but exact). In practice almost no row
   falls back (only when neighbour distances are below ~1e-3 of the data's radius); the
   count is reported.

Memory is bounded by ``chunk_bytes``: the (rows, N) float32 key block and the
(rows, m, D) float64 differences each stay below it. The data live on ``device`` (the
GPU when present) in float32 (keys) and float64 (refinement).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from autoenc.core.errors import UserError

#: Default memory bound for one chunk (bytes); 256 MiB.
DEFAULT_CHUNK_BYTES = 256 * 2**20
_UNIT_ROUNDOFF_F32 = 2.0**-24
# Strided groups per row for the group-minimum selection, and the shortest row it pays on.
_GROUPS = 16
_GROUP_MIN_ROW = 4096


@dataclass(frozen=True)
class Neighbours:
    """k nearest neighbours of every point (the point itself excluded).

    Attributes:
        distances: (N, k) float64 Euclidean distances, ascending along each row.
        indices: (N, k) int64 row indices of the neighbours in the input array.
        fallback_rows: rows that the float32 selection could not certify and that were
            recomputed exactly from all differences (0 in almost every case).
    """

    distances: np.ndarray
    indices: np.ndarray
    fallback_rows: int = 0

    @property
    def k(self) -> int:
        return int(self.distances.shape[1])


def knn(x: np.ndarray | torch.Tensor, k: int, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        device: str | torch.device | None = None, margin: int | None = None,
        timings: dict[str, float] | None = None) -> Neighbours:
    """Exact Euclidean k nearest neighbours of every row of ``x`` among the other rows.

    Args:
        x: (N, D) real array; any float or integer dtype (used in float64).
        k: neighbours per point, 1 <= k <= N - 1.
        chunk_bytes: memory bound (bytes) for each chunk's temporary blocks.
        device: where to compute; default: CUDA when available, else CPU.
        margin: extra float32 candidates per row before the exact float64 re-ranking;
            default ``max(4, k // 4)``.
        timings: if given, seconds spent in "gemm", "select" and "refine" are added to it
            (the GPU is synchronised around each step, which costs a little).

    Returns:
        :class:`Neighbours` with (N, k) float64 distances and int64 indices.

    Raises:
        UserError: k out of range or a chunk bound too small for one row.
    """
    device = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
    x64 = torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)
    x64 = x64 - x64.mean(0)  # smaller norms -> smaller float32 rounding in the keys
    n, dim = x64.shape
    if not 1 <= k <= n - 1:
        raise UserError(f"k must be between 1 and N - 1 = {n - 1} neighbours, got k={k}")
    m = min(n - 1, k + (max(4, k // 4) if margin is None else int(margin)))
    rows = _rows_per_chunk(n, m, dim, chunk_bytes)

    # Keys in units of the largest norm: no float32 overflow or underflow at any data scale.
    scale = torch.linalg.vector_norm(x64, dim=1).max().clamp_min(torch.finfo(x64.dtype).tiny)
    unit = x64 / scale
    sq = (unit * unit).sum(1)  # (N,) squared norms, units of scale^2
    queries = torch.cat([unit, torch.ones(n, 1, dtype=unit.dtype, device=device)], 1).float()
    points = _padded_points(unit, sq, m)
    delta = (dim + 5) * _UNIT_ROUNDOFF_F32 * (1.0 + sq.sqrt()) ** 2  # (N,) per query row

    dist = torch.empty(n, k, dtype=torch.float64, device=device)
    index = torch.empty(n, k, dtype=torch.int64, device=device)
    # Buffers reused by every chunk: fresh multi-megabyte tensors per chunk would be
    # page-faulted in again each time, which costs as much as the GEMM on a CPU.
    keys_buf = torch.empty(rows, points.shape[0], dtype=torch.float32, device=device)
    diff_buf = torch.empty(rows * m, dim, dtype=torch.float64, device=device)
    uncertified: list[torch.Tensor] = []
    with _highest_matmul_precision():
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            with _timed(timings, "gemm", device):
                keys = torch.mm(queries[start:stop], points.T, out=keys_buf[: stop - start])
                arange = torch.arange(stop - start, device=device)
                keys[arange, arange + start] = float("inf")  # not its own neighbour
            with _timed(timings, "select", device):
                cand_key, cand = _smallest(keys, m)
            with _timed(timings, "refine", device):
                d, i = _refine(x64, x64[start:stop], cand, k, diff_buf)
                bound = cand_key.max(1).values.double() + sq[start:stop] - delta[start:stop]
                ok = (d[:, -1] / scale) ** 2 <= bound
                dist[start:stop], index[start:stop] = d, i
                if m < n - 1 and not bool(ok.all()):
                    uncertified.append(torch.nonzero(~ok).flatten() + start)
        del keys_buf
        fallback = torch.cat(uncertified) if uncertified else torch.empty(0, dtype=torch.int64)
        with _timed(timings, "refine", device):
            for part in torch.split(fallback, max(1, rows // 2)) if uncertified else ():
                dist[part], index[part] = _exact_rows(x64, part, k)
    return Neighbours(dist.cpu().numpy(), index.cpu().numpy(), int(fallback.numel()))


def _rows_per_chunk(n: int, m: int, dim: int, chunk_bytes: int) -> int:
    """Query rows per chunk so the (rows, N) float32 keys and (rows, m, D) float64 fit."""
    per_row = max(4 * (n + _GROUPS), 8 * m * (dim + 1))
    rows = int(chunk_bytes) // per_row
    if rows < 1:
        raise UserError(f"chunk_bytes={chunk_bytes} is smaller than one row of the distance block "
                        f"({per_row} bytes for N={n}, D={dim}); raise chunk_bytes")
    return min(rows, n)


def _uses_groups(n: int, m: int) -> bool:
    return n >= _GROUP_MIN_ROW and -(-n // _GROUPS) >= 4 * m


def _padded_points(x: torch.Tensor, sq: torch.Tensor, m: int) -> torch.Tensor:
    """(N [+ pad], D + 1) float32 rows ``[-2 b, ||b||^2]``; the key of a query is one GEMM.

    With group selection the row count is padded to a multiple of the group count by rows
    ``[0, ..., 0, max_float]`` whose key is huge for every query (the query's last column is
    1), so no copy of the key block is needed. max_float rather than inf keeps 0 * pad
    products in a BLAS kernel's edge tiles finite.
    """
    n = x.shape[0]
    points = torch.cat([-2.0 * x, sq[:, None]], 1).float()
    pad = -n % _GROUPS if _uses_groups(n, m) else 0
    if pad:
        filler = torch.zeros(pad, points.shape[1], dtype=points.dtype, device=points.device)
        filler[:, -1] = torch.finfo(torch.float32).max
        points = torch.cat([points, filler])
    return points


def _smallest(keys: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The m smallest entries of every row of ``keys`` (rows, N): values and column indices.

    For long rows (N a multiple of g, see :func:`_padded_points`) the row is viewed as ``g``
    strided slices of length G = N / g. The m groups (columns of that view) with the
    smallest minima contain the m smallest entries: an entry outside them is >= m group
    minima, each a different entry. So an element-wise ``amin`` over the slices (one
    vectorised pass) replaces most of the selection work.
    """
    rows, n = keys.shape
    if not _uses_groups(n, m):
        return torch.topk(keys, m, dim=1, largest=False, sorted=False)
    groups = n // _GROUPS
    sliced = keys.view(rows, _GROUPS, groups)
    _, best = torch.topk(sliced.amin(1), m, dim=1, largest=False, sorted=False)  # (rows, m)
    members = sliced.gather(2, best[:, None, :].expand(rows, _GROUPS, m))  # (rows, g, m)
    values, flat = torch.topk(members.reshape(rows, -1), m, dim=1, largest=False, sorted=False)
    slot, group = flat // m, flat % m
    columns = slot * groups + best.gather(1, group)
    return values, columns


def _refine(x64: torch.Tensor, queries: torch.Tensor, cand: torch.Tensor, k: int,
            buf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact float64 distances from ``queries`` (r, D) to their candidates ``cand`` (r, m)
    computed from coordinate differences (no cancellation) in ``buf`` (>= r * m, D);
    the k nearest, ascending: ((r, k) float64, (r, k) int64)."""
    r, m = cand.shape
    diff = torch.index_select(x64, 0, cand.reshape(-1), out=buf[: r * m]).view(r, m, x64.shape[1])
    diff.sub_(queries[:, None, :])
    d, order = torch.sort(torch.linalg.vector_norm(diff, dim=2), dim=1)
    return d[:, :k], cand.gather(1, order[:, :k])


def _exact_rows(x64: torch.Tensor, rows: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows the float32 keys could not certify: every distance from coordinate differences.

    No GEMM expansion here: in float64 it would still cancel when neighbour distances are
    ~1e-8 of the norms, the very case that sends rows here.
    """
    d = torch.cdist(x64[rows], x64, compute_mode="donot_use_mm_for_euclid_dist")  # (r, N)
    d[torch.arange(rows.numel(), device=x64.device), rows] = float("inf")
    return torch.topk(d, k, dim=1, largest=False, sorted=True)


@contextlib.contextmanager
def _highest_matmul_precision() -> Iterator[None]:
    """Full float32 GEMMs (no TF32/bf16) while we rely on the float32 error bound."""
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


@contextlib.contextmanager
def _timed(timings: dict[str, float] | None, step: str, device: torch.device) -> Iterator[None]:
    """Add the wall time of the block to ``timings[step]`` (no-op when ``timings`` is None)."""
    if timings is None:
        yield
        return
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    sync()
    start = time.perf_counter()
    yield
    sync()
    timings[step] = timings.get(step, 0.0) + time.perf_counter() - start
