"""Figures for intrinsic-dimension results: estimates with error bars, and scale curves."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from autoenc.measure.intrinsic_dim.estimators import NEIGHBOUR_RANK, SUBSAMPLE_SIZE
from autoenc.measure.intrinsic_dim.result import IDResult


def plot_id_results(results: Sequence[IDResult], title: str | None = None) -> Figure:
    """One row of panels: the estimates with their spread, then the estimate against
    subsample size (TwoNN, MLE, PCA) and against neighbour rank (Gride), when present.

    Args:
        results: from :func:`~autoenc.measure.intrinsic_dim.estimate_all`.
        title: figure title; default names the number of points.

    Returns:
        A matplotlib Figure (not attached to pyplot; save it with ``fig.savefig``).
    """
    sized = [r for r in results if r.curve is not None and r.curve.axis == SUBSAMPLE_SIZE]
    ranked = [r for r in results if r.curve is not None and r.curve.axis == NEIGHBOUR_RANK]
    panels = 1 + bool(sized) + bool(ranked)
    fig = Figure(figsize=(4.2 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    colours = {r.estimator: f"C{i}" for i, r in enumerate(results)}
    _estimates(axes[0], results, colours)
    if sized:
        ax = axes[1]
        _curves(ax, sized, colours, "points in subsample", "ID vs sample size")
        ax.set_xscale("log")
        sizes = sorted({int(s) for r in sized if r.curve for s in r.curve.x})
        ax.set_xticks(sizes, [str(s) for s in sizes], minor=False)
        ax.minorticks_off()
    if ranked:
        ax = axes[-1]
        _curves(ax, ranked, colours, "neighbour rank n1 (n2 = 2 n1)", "ID vs scale (Gride)")
        ax.set_xscale("log", base=2)
    n = results[0].n if results else 0
    fig.suptitle(title or f"intrinsic dimension, N = {n} points")
    return fig


def _label(result: IDResult) -> str:
    return f"{result.estimator} (linear)" if result.linear else result.estimator


def _estimates(ax, results: Sequence[IDResult], colours: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for y, r in enumerate(results):
        ax.errorbar(r.value, y, xerr=r.spread or 0.0, fmt="s" if r.linear else "o",
                    mfc="white" if r.linear else colours[r.estimator], color=colours[r.estimator], capsize=4)
        ax.annotate(f"{r.value:.2f}", (r.value, y), textcoords="offset points", xytext=(0, 7), ha="center",
                    fontsize=8)
    ax.set_yticks(range(len(results)), [_label(r) for r in results])
    ax.set_ylim(-0.7, len(results) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("intrinsic dimension (bars: subsample spread)")
    ax.set_title("estimates")
    ax.grid(axis="x", alpha=0.3)


def _curves(ax, results: Sequence[IDResult], colours: dict[str, str], xlabel: str,  # type: ignore[no-untyped-def]
            title: str) -> None:
    for r in results:  # each has a curve
        errors = [0.0 if e is None else e for e in r.curve.error]
        ax.errorbar(r.curve.x, r.curve.value, yerr=errors, marker="o", ms=3, capsize=3, color=colours[r.estimator],
                    label=_label(r))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ID")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
