"""Figure of label efficiency: probe accuracy against labelled items per class."""

from __future__ import annotations

from collections.abc import Mapping

from matplotlib.figure import Figure

from autoenc.measure.label_curve import ALL, LabelEfficiency


def plot_label_efficiency(result: LabelEfficiency | Mapping[str, LabelEfficiency], title: str | None = None) -> Figure:
    """Mean accuracy over draws with its 95% interval against labels per class (log axis);
    ``all`` is drawn at the pool's per-class mean, chance as a dotted line.

    Args:
        result: from :func:`~autoenc.features.label_efficiency.label_efficiency`, or several
            curves of the same test items by label (one line each, e.g. per bottleneck size).
        title: figure title.

    Returns:
        A matplotlib Figure (save it with ``fig.savefig``).
    """
    curves = {f"{result.kind} probe": result} if isinstance(result, LabelEfficiency) else dict(result)
    first = next(iter(curves.values()))
    fig = Figure(figsize=(5.0, 3.6), layout="constrained")
    ax = fig.subplots()
    for label, curve in curves.items():
        means = [p.mean for p in curve.points]
        errors = [[p.mean - p.ci_low for p in curve.points], [p.ci_high - p.mean for p in curve.points]]
        ax.errorbar(_label_counts(curve), means, yerr=errors, marker="o", ms=4, capsize=3, label=label)
    for x, p in zip(_label_counts(first), first.points, strict=True):
        if p.labels_per_class == ALL:
            ax.annotate("all", (x, p.mean), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.axhline(first.chance, ls=":", color="grey", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("labelled items per class")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=8 if len(curves) > 1 else None)
    ax.set_title(title or f"accuracy vs labels ({first.n_test} test items)")
    return fig


def _label_counts(curve: LabelEfficiency) -> list[float]:
    """Each point's labelled items per class; ``all``: the pool's mean per class."""
    return [p.n_train / curve.n_classes if p.labels_per_class == ALL else p.labels_per_class for p in curve.points]
