"""Matplotlib charts (Agg canvas, no pyplot state): the latent map, the training curve and the
latents x factors heat maps (mutual information, DCI importance)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autoenc.core.atomic import atomic_file
from autoenc.measure.latent_map import LatentMap

if TYPE_CHECKING:  # the report draws its curve with this module
    from autoenc.measure.summary import TrainingCurve

DPI = 100


def agg_figure(width_in: float, height_in: float) -> Figure:
    """A Figure of that size in inches at :data:`DPI` on its own Agg canvas (no pyplot state)."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def latent_map_figure(m: LatentMap, title: str = "") -> Figure:
    """Scatter of the projected codes; categories get a legend, continuous values a colour bar."""
    fig = agg_figure(6.4, 5.0)
    ax = fig.add_subplot()
    x, y = m.points[:, 0], m.points[:, 1]
    size = 10 if len(x) <= 2000 else 4
    c = m.colouring
    if c is None:
        ax.scatter(x, y, s=size, alpha=0.7, linewidths=0)
    elif c.categorical:
        cmap = _categorical_colours(len(c.class_names or []))
        for i, (value, name) in enumerate(zip(np.unique(c.values), c.class_names or [], strict=False)):
            sel = c.values == value
            ax.scatter(x[sel], y[sel], s=size, alpha=0.8, linewidths=0, color=cmap[i], label=name)
        ax.legend(title=c.name, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=2,
                  frameon=False)
    else:
        points = ax.scatter(x, y, s=size, alpha=0.8, linewidths=0, c=c.values, cmap="viridis")
        fig.colorbar(points, ax=ax, label=c.name)
    ax.set_xlabel(m.axis_labels[0])
    ax.set_ylabel(m.axis_labels[1])
    ax.set_title(title or f"Codes of {len(x)} images, {m.method.upper()}", fontsize=10)
    fig.tight_layout()
    return fig


def _categorical_colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(max(n, 1))]


def training_curve_figure(curve: TrainingCurve, names: tuple[str, ...] = ("train/loss", "val/loss", "val/recon",
                                                                         "val/kl")) -> Figure:
    """Loss terms against the training step (nats per image)."""
    fig = agg_figure(5.0, 3.0)
    ax = fig.add_subplot()
    for name in names:
        if name in curve.series:
            steps, values = curve.series[name]
            style = {"lw": 0.8, "alpha": 0.6} if name.startswith("train") else {"lw": 1.5, "marker": "o", "ms": 2}
            ax.plot(steps, values, label=name, **style)
    ax.set_xlabel("step")
    ax.set_ylabel("nats / image")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8, frameon=False)
    ax.set_title("Training curve (metrics.csv)", fontsize=10)
    fig.tight_layout()
    return fig


def matrix_figure(matrix: np.ndarray, latent_labels: Sequence[str], factor_names: Sequence[str],
                  title: str, colorbar_label: str, vmax: float | None = None) -> Figure:
    """A (D, K) latents x factors heat map, rows labelled ``latent_labels`` (in the given
    order), columns ``factor_names``, each cell annotated with its value."""
    d, k = matrix.shape
    fig = agg_figure(1.2 + 0.9 * k + 1.2, 1.0 + 0.35 * d + 0.8)
    ax = fig.add_subplot()
    top = vmax if vmax is not None else (float(matrix.max()) if matrix.size and matrix.max() > 0 else 1.0)
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=top, aspect="auto")
    ax.set_xticks(range(k), list(factor_names), rotation=30, ha="right")
    ax.set_yticks(range(d), list(latent_labels))
    ax.set_xlabel("factor")
    ax.set_ylabel("latent")
    ax.set_title(title, fontsize=10)
    for i in range(d):
        for j in range(k):
            value = matrix[i, j]
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if value > 0.6 * top else "white")
    fig.colorbar(image, ax=ax, label=colorbar_label, fraction=0.05, pad=0.03)
    fig.tight_layout()
    return fig


def mutual_info_figure(normalized_mi: np.ndarray, latent_labels: Sequence[str], factor_names: Sequence[str],
                       mig: float | None = None) -> Figure:
    """I(z_j; v_k) / H(v_k): each column is the share of the factor's entropy a latent carries."""
    title = "Mutual information / factor entropy" + (f"  (MIG {mig:.3f})" if mig is not None else "")
    return matrix_figure(normalized_mi, latent_labels, factor_names, title, "I(z; v) / H(v)", vmax=1.0)


def importance_figure(importance: np.ndarray, latent_labels: Sequence[str], factor_names: Sequence[str],
                      disentanglement: float | None = None, completeness: float | None = None) -> Figure:
    """The DCI importance matrix (gradient-boosted-tree feature importances; columns sum to 1)."""
    title = "DCI importance"
    if disentanglement is not None and completeness is not None:
        title += f"  (D {disentanglement:.3f}, C {completeness:.3f})"
    return matrix_figure(importance, latent_labels, factor_names, title, "importance")


def save_figure(fig: Figure, path: str | os.PathLike) -> None:
    """Write ``fig`` as PNG at :data:`DPI`, atomically."""
    with atomic_file(path) as f:
        fig.savefig(f, format="png", dpi=DPI)
