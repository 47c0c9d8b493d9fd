"""Figures of a bottleneck-size sweep: each metric against the latent size, error bars over seeds;
probe accuracy against labels per class, one line per size."""

from __future__ import annotations

import math
from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autoenc.measure.label_curve import LabelEfficiency
from autoenc.measure.recommend import METRICS, Metric, SweepCurves
from autoenc.render.label_efficiency_plots import plot_label_efficiency

#: Metrics whose value can at most equal the number of units: drawn with the line y = size.
_BOUNDED_BY_SIZE = ("twonn", "active_units")


def _shown(results: Mapping[str, SweepCurves]) -> list[Metric]:
    return [m for m in METRICS
            if any(math.isfinite(s.mean.get(m.name, math.nan)) for r in results.values() for s in r.summary)]


def compare_figure(results: Mapping[str, SweepCurves], title: str = "", mark_recommendation: bool = False) -> Figure:
    """One panel per metric (reconstruction, negative ELBO, TwoNN ID, active units, probe
    accuracy; those measured) against the latent size on a log2 axis; one series per labelled
    sweep, error bars = standard deviation over seeds. ID and active-unit panels show y = size.

    Args:
        results: label -> sweep (e.g. ``{"ordered": a, "separate": b}``).
        mark_recommendation: draw each sweep's recommended size as a dotted vertical line.
    """
    metrics = _shown(results)
    cols = min(3, max(1, len(metrics)))
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(4.0 * cols, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    sizes = sorted({k for r in results.values() for k in r.sizes})
    options = sorted({r.size_option for r in results.values()})
    x_label = "latent size" if options == ["latent_dim"] else f"{' / '.join(options)} (swept)"
    for ax, metric in zip(axes, metrics, strict=False):
        for i, (label, result) in enumerate(results.items()):
            xs = [s.latent_dim for s in result.summary]
            ys = [s.mean[metric.name] for s in result.summary]
            errs = [s.std[metric.name] if s.n > 1 and math.isfinite(s.std[metric.name]) else 0.0 for s in result.summary]
            ax.errorbar(xs, ys, yerr=errs, marker="os^v"[i % 4], ms=4, capsize=3, color=f"C{i}", label=label)
            if mark_recommendation:
                ax.axvline(result.recommendation.latent_dim, color=f"C{i}", ls=":", lw=1)
        if metric.name in _BOUNDED_BY_SIZE and options == ["latent_dim"]:  # channels, k: the code is not that size
            top = max((s.mean[metric.name] + (s.std[metric.name] if math.isfinite(s.std[metric.name]) else 0.0)
                       for r in results.values() for s in r.summary if math.isfinite(s.mean[metric.name])),
                      default=float(max(sizes)))
            ax.plot(sizes, sizes, ls="--", lw=0.8, color="0.6", label="= latent size")
            ax.set_ylim(0, min(float(max(sizes)), top) * 1.15 + 0.5)  # the bound, cut where the data ends
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(k) for k in sizes])
        ax.minorticks_off()
        ax.set_xlabel(x_label)
        better = f" ({metric.better} is better)" if metric.better else ""
        ax.set_title(metric.label + better, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    if metrics:
        axes[0].legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def sweep_figure(result: SweepCurves) -> Figure:
    """:func:`compare_figure` of one sweep, its recommended size marked and named in the title."""
    seeds = len(result.seeds)
    mode = "one ordered (nested-dropout) model per seed" if result.ordered else "one model per size"
    label = "ordered prefixes" if result.ordered else "separate models"
    title = (f"{result.name}: {mode}, {seeds} seed{'s' if seeds > 1 else ''}; "
             f"recommended {_size_name(result.size_option)} {result.recommendation.latent_dim}")
    return compare_figure({label: result}, title=title, mark_recommendation=True)


def _size_name(option: str) -> str:
    return "latent size" if option == "latent_dim" else option


def sweep_labels_figure(curves: Mapping[int, LabelEfficiency], size_option: str = "latent_dim",
                        title: str | None = None) -> Figure:
    """Probe accuracy against labelled items per class (log axis), one line per bottleneck size,
    error bars = 95% interval over draws (and seeds).

    Args:
        curves: size -> its label-efficiency curve, all on the same validation items.
        size_option: the option the sweep varied, for the legend.
    """
    return plot_label_efficiency({f"{_size_name(size_option)} {k}": c for k, c in curves.items()}, title=title)
