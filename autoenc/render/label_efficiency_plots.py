"""Figure of label efficiency: probe accuracy against labelled items per class."""

from __future__ import annotations

from matplotlib.figure import Figure

from autoenc.measure.label_curve import ALL, LabelEfficiency


def plot_label_efficiency(result: LabelEfficiency, title: str | None = None) -> Figure:
    """Mean accuracy over draws with its 95% interval against labels per class (log axis);
    ``all`` is drawn at the pool's per-class mean, chance as a dotted line.

    Args:
        result: from :func:`~autoenc.features.label_efficiency.label_efficiency`.
        title: figure title.

    Returns:
        A matplotlib Figure (save it with ``fig.savefig``).
    """
    fig = Figure(figsize=(5.0, 3.6), layout="constrained")
    ax = fig.subplots()
    xs = [p.n_train / result.n_classes if p.labels_per_class == ALL else p.labels_per_class for p in result.points]
    means = [p.mean for p in result.points]
    errors = [[p.mean - p.ci_low for p in result.points], [p.ci_high - p.mean for p in result.points]]
    ax.errorbar(xs, means, yerr=errors, marker="o", capsize=3, label=f"{result.kind} probe")
    for x, p in zip(xs, result.points, strict=True):
        if p.labels_per_class == ALL:
            ax.annotate("all", (x, p.mean), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.axhline(result.chance, ls=":", color="grey", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("labelled items per class")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
    ax.set_title(title or f"accuracy vs labels ({result.n_test} test items)")
    return fig
