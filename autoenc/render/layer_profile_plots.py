"""Figure of an intrinsic-dimension profile: TwoNN ID per layer with its spread, widths beside."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from autoenc.measure.intrinsic_dim.layer_profile import LayerID


def plot_layer_profile(layers: Sequence[LayerID], title: str | None = None) -> Figure:
    """ID (with its subsample spread as error bars) against layer, on a linear axis; each layer's
    width (values per image) on a second, logarithmic axis.

    Args:
        layers: from :func:`~autoenc.measure.intrinsic_dim.layer_profile.id_by_layer`, in order.
        title: figure title (default: the number of points).

    Returns:
        A matplotlib Figure (save it with ``fig.savefig``).
    """
    fig = Figure(figsize=(max(5.0, 0.55 * len(layers) + 2), 4.0), layout="constrained")
    ax = fig.subplots()
    x = list(range(len(layers)))
    values = [layer.id.value for layer in layers]
    spreads = [layer.id.spread or 0.0 for layer in layers]
    ax.errorbar(x, values, yerr=spreads, marker="o", color="C0", capsize=3, label="TwoNN ID")
    ax.set_ylabel("intrinsic dimension (TwoNN)", color="C0")
    ax.set_ylim(bottom=0)
    ax.set_xticks(x, [layer.layer for layer in layers], rotation=60, ha="right", fontsize=8)
    widths = ax.twinx()
    widths.plot(x, [layer.width for layer in layers], marker="s", ls="--", color="C1", alpha=0.7)
    widths.set_yscale("log")
    widths.set_ylabel("width (values per image)", color="C1")
    n = layers[0].id.n if layers else 0
    ax.set_title(title or f"ID layer by layer (N = {n})")
    return fig
