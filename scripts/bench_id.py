"""Intrinsic dimension: autoenc vs scikit-dimension (TwoNN, MLE) on the same data, same run.

Data: a curved 8-D manifold in R^32 (fixed seed): each of 8 coordinates in [0, 1] is bent
onto a half circle (cos, sin) and the 16 coordinates are rotated into R^32 at random.
Compared: ``estimate_all(x, [name], repeats=0)`` (validation, duplicate check, exact kNN,
estimate: the same work as ``skdim.id.TwoNN().fit(x)`` / ``skdim.id.MLE().fit(x)``, which
give no error bars). Also measured: the machine's float32 matmul FLOP/s (large square
matrices, best of several) and the FLOP/s of the distance GEMM inside the kNN.

    python scripts/bench_id.py                     # N = 10,000 and 50,000; writes docs/benchmarks.md
    python scripts/bench_id.py --sizes 2000 --no-write
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _bench_doc import write_section  # noqa: E402  (scripts/ is on sys.path)

from autoenc.measure.intrinsic_dim import MLE, TwoNN, estimate_all, knn

SECTION = "## Intrinsic dimension"
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def curved_manifold(n: int, dim: int = 8, ambient: int = 32, seed: int = 0) -> np.ndarray:
    """(n, ambient) float64 points on a product of ``dim`` half circles, rotated."""
    rng = np.random.default_rng(seed)
    t = np.pi * rng.random((n, dim))
    arcs = np.concatenate([np.cos(t), np.sin(t)], axis=1)
    rotation, _ = np.linalg.qr(rng.standard_normal((ambient, 2 * dim)))
    return arcs @ rotation.T


def best_time(fn, repeats: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def matmul_flops(size: int = 4096, repeats: int = 5) -> float:
    """Best float32 FLOP/s of a (size x size) @ (size x size) torch matmul."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    seconds, _ = best_time(lambda: a @ b, repeats)
    return 2 * size**3 / seconds


def distance_step(x: np.ndarray, k: int, repeats: int) -> dict[str, float]:
    """Seconds per kNN step (best total of ``repeats``) and the GEMM's FLOP/s."""
    best: dict[str, float] = {}
    for _ in range(repeats):
        timings: dict[str, float] = {}
        start = time.perf_counter()
        knn(x, k, timings=timings)
        timings["total"] = time.perf_counter() - start
        if not best or timings["total"] < best["total"]:
            best = timings
    n, d = x.shape
    n_cols = -(-n // 16) * 16  # rows padded for the group selection
    best["gemm_flops"] = 2 * n * n_cols * (d + 1) / best["gemm"]
    best["distance_flops"] = 2 * n * n * d / best["total"]  # whole kNN, useful flops
    return best


def compare(x: np.ndarray, repeats: int) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """Table rows (autoenc vs skdim time and estimate for TwoNN and MLE on ``x``) and
    {estimator: (speed-up, relative difference of the estimates)}."""
    import skdim

    rows, figures = [], {}
    # skdim's TwoNN sorts whole distance rows (minutes at N = 50,000): timed once.
    for name, ours_est, ref_cls, ref_repeats in (
        ("twonn", TwoNN(), skdim.id.TwoNN, 1),
        ("mle", MLE(), skdim.id.MLE, repeats),
    ):
        t_ours, res = best_time(lambda e=ours_est: estimate_all(x, [e], repeats=0), repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ref, ref = best_time(lambda c=ref_cls: c().fit(x).dimension_, ref_repeats)
        ours = res[0].value
        rows.append(
            f"| {len(x):,} | {name} | {t_ours:.2f} | {t_ref:.2f} | {t_ref / t_ours:.1f}x "
            f"| {ours:.4f} | {ref:.4f} | {abs(ours / ref - 1):.1e} |"
        )
        print(rows[-1], flush=True)
        figures[name] = (t_ref / t_ours, abs(ours / ref - 1))
    return rows, figures


def profile(x: np.ndarray, peak: float, repeats: int) -> tuple[str, float]:
    """Table row: kNN (k = 20) phases and GEMM / kNN FLOP/s against the matmul peak."""
    prof = distance_step(x, 20, repeats)
    row = (
        f"| {len(x):,} | {prof['total']:.2f} | {prof['gemm']:.2f} | {prof['select']:.2f} "
        f"| {prof['refine']:.2f} | {prof['gemm_flops'] / 1e9:.0f} "
        f"({prof['gemm_flops'] / peak:.0%}) | {prof['distance_flops'] / 1e9:.0f} "
        f"({prof['distance_flops'] / peak:.0%}) |"
    )
    print(row, flush=True)
    return row, prof["gemm_flops"] / peak


def with_error_bars(x: np.ndarray) -> str:
    t_full, full = best_time(lambda: estimate_all(x, ["twonn", "mle"], repeats=5), 1)
    return (
        f"- N = {len(x):,}: twonn + mle together with error bars and size curves "
        f"(`repeats=5`, 4 levels): {t_full:.1f} s; "
        + ", ".join(f"{r.estimator} {r.value:.2f} ± {r.spread:.2f}" for r in full)
    )


def run(sizes: list[int], repeats: int) -> str:
    import skdim

    peak = matmul_flops()
    print(f"matmul {peak / 1e9:.0f} GFLOP/s", flush=True)
    rows, profiles, lines = [], [], []
    for n in sizes:
        x = curved_manifold(n)
        new_rows, figures = compare(x, repeats)
        rows += new_rows
        row, gemm_fraction = profile(x, peak, repeats)
        profiles.append(row)
        lines.append(with_error_bars(x))
        print(lines[-1], flush=True)

    cpu = _cpu_model()
    return "\n".join(
        [
            SECTION,
            "",
            "Command: `.venv/bin/python scripts/bench_id.py"
            + (f" --sizes {','.join(map(str, sizes))}" if sizes != [10_000, 50_000] else "")
            + "`",
            "",
            f"Machine: {cpu}, {torch.get_num_threads()} torch threads, no GPU; "
            f"torch {torch.__version__}, Python {platform.python_version()}, "
            f"scikit-dimension {getattr(skdim, '__version__', '?')}. Shared with other jobs, "
            "so absolute times are noisy; both sides run in the same process, alternating.",
            "",
            "Data: curved 8-D manifold in R^32 (8 half circles, rotated), float64, seed 0. "
            "autoenc: `estimate_all(x, [TwoNN()] or [MLE()], repeats=0)`, best of "
            f"{repeats}; scikit-dimension: `skdim.id.TwoNN().fit(x)` (one run: it takes minutes), "
            f"`skdim.id.MLE().fit(x)` (best of {repeats}); defaults: discard 10% / k = 20.",
            "",
            "| N | estimator | autoenc (s) | skdim (s) | speed-up | autoenc ID | skdim ID | rel. diff |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Machine float32 matmul: {peak / 1e9:.0f} GFLOP/s (4096 x 4096, best of 5). "
            "Distance step of the kNN (k = 20; best of "
            f"{repeats}): seconds per phase, and GFLOP/s (fraction of the matmul figure) of the "
            "GEMM alone (2 N^2 (D + 1) flops) and of the whole kNN (2 N^2 D useful flops):",
            "",
            "| N | kNN (s) | GEMM (s) | select (s) | refine (s) | GEMM GFLOP/s | kNN GFLOP/s |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *profiles,
            "",
            *lines,
            "",
            targets(sizes[-1], figures, gemm_fraction),
            "",
        ]
    )


def targets(n: int, figures: dict[str, tuple[float, float]], gemm_fraction: float) -> str:
    """The targets at the largest N, met or missed, and what limits the missed ones."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    parts = [
        f"{name} >= 10x faster: {verdict(speed >= 10)} ({speed:.1f}x)"
        for name, (speed, _) in figures.items()
    ]
    worst = max(diff for _, diff in figures.values())
    parts.append(f"estimates equal within 0.1%: {verdict(worst <= 1e-3)} (max {worst:.1e})")
    parts.append(
        f"distance GEMM >= 50% of matmul: {verdict(gemm_fraction >= 0.5)} ({gemm_fraction:.0%})"
    )
    return (
        f"Targets at N = {n:,}: " + "; ".join(parts) + ".\n\n"
        "What limits them: skdim's TwoNN (D > 25) sorts whole rows of the distance matrix "
        "(N^2 log N), so the TwoNN ratio is large. skdim's MLE runs on scikit-learn's "
        "brute-force kNN (a fused float64 GEMM + heap selection in Cython with OpenMP), i.e. the "
        "same N^2 D work as ours; our float32 GEMM is at most ~2x faster than its float64 one, "
        "and the GEMM alone at full matmul speed would take 2 N^2 (D + 1) / peak, about 1 s "
        "at N = 50,000 on this machine, so >= 10x over skdim's MLE is out of reach for an exact "
        "brute-force search on this CPU (it would take a GPU or a sub-quadratic exact search). "
        "The GEMM has inner dimension D + 1 = 33 and writes a (rows, N) float32 block, so it is "
        "bound by memory traffic as much as by arithmetic; selection and refinement are the "
        "rest of the kNN time. Noise: the 2 cores are shared with other jobs, and repeated "
        "runs of the same kNN varied by 2-5x during this work; ratios come from one process, "
        "alternating, but still carry that noise."
    )


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = re.search(r"Model name:\s*(.+)", out)
        return f"{model.group(1).strip() if model else platform.processor()}, {_cores()} cores"
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,50000", help="comma-separated N (default 10000,50000)")
    p.add_argument("--repeats", type=int, default=3, help="timing repeats for autoenc (best of)")
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    section = run(sizes, args.repeats)
    print(section)
    if not args.no_write:
        write_section(SECTION, section)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
