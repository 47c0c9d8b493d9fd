"""Heat maps of latents x factors: the mutual-information matrix and the DCI importance matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from autoenc.render.charts import agg_figure


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
