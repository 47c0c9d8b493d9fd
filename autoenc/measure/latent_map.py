"""A 2-D map of the codes (PCA, or t-SNE via scikit-learn), coloured by label or factor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from autoenc.core.errors import UserError
from autoenc.core.registry import Registry

#: Class labels with at most this many distinct values are coloured as categories.
MAX_CATEGORIES = 12
#: A factor (ordered values, e.g. scale or position) is a category only with this few values;
#: otherwise a sequential colour map shows its order.
MAX_FACTOR_CATEGORIES = 4

Projection = Callable[[np.ndarray, int], tuple[np.ndarray, list[str]]]
PROJECTIONS: Registry[Projection] = Registry("projection")


@PROJECTIONS.register("pca")
def pca_2d(codes: np.ndarray, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """(N, D) -> (N, 2) scores on the first two principal components and axis labels with
    the share of variance each explains (a 1-D code gets a zero second axis)."""
    x = codes.astype(np.float64) - codes.mean(0, dtype=np.float64)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    var = s**2
    share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    k = min(2, vt.shape[0])
    points = np.zeros((len(x), 2))
    points[:, :k] = x @ vt[:k].T
    labels = [f"PC{i + 1} ({100 * share[i]:.0f}% of variance)" if i < k else "(1-D code)" for i in range(2)]
    return points, labels


@PROJECTIONS.register("tsne")
def tsne_2d(codes: np.ndarray, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """(N, D) -> (N, 2) t-SNE embedding (van der Maaten & Hinton 2008; scikit-learn,
    PCA initialisation, perplexity min(30, (N - 1) / 3))."""
    from sklearn.manifold import TSNE

    if len(codes) < 4:
        raise UserError(f"t-SNE needs at least 4 points, got {len(codes)}; use --method pca")
    perplexity = float(min(30.0, (len(codes) - 1) / 3))
    points = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes.astype(np.float64))
    return points, ["t-SNE 1", "t-SNE 2"]


@dataclass
class Colouring:
    """What colours the points.

    Attributes:
        values: (N,) numbers (category codes when ``categorical``).
        name: what they are ("label", "scale", ...).
        categorical: draw a legend of ``class_names`` instead of a colour bar.
        class_names: name of each category value, sorted by value.
    """

    values: np.ndarray
    name: str
    categorical: bool
    class_names: list[str] | None = None


def colour_by(targets: torch.Tensor | None, target_names: list[str] | None,
              name: str | None = None) -> Colouring | None:
    """The colouring of the points from the data's targets: class labels (N,) or, for
    factor data such as sprites, column ``name`` of the (N, F) factor values (default the
    first factor). None when there are no targets and no ``name`` was asked for."""
    if targets is None:
        if name is not None:
            raise UserError(f"cannot colour by {name!r}: the data has no labels or factors")
        return None
    t = targets.detach().cpu()
    if t.ndim == 1:
        if name not in (None, "label"):
            raise UserError(f"cannot colour by {name!r}: the data has class labels only; use --color_by label")
        values = t.numpy()
        names = target_names if target_names and len(target_names) > int(values.max(initial=0)) else None
        uniques = np.unique(values)
        classes = [names[int(v)] if names else str(v) for v in uniques]
        return Colouring(values, "label", len(uniques) <= MAX_CATEGORIES or names is not None, classes)
    factors = list(target_names or [f"factor{i}" for i in range(t.shape[1])])
    chosen = factors[0] if name is None else name
    if chosen not in factors:
        raise UserError(f"unknown factor {chosen!r} to colour by; choose one of {', '.join(factors)}")
    values = t[:, factors.index(chosen)].numpy()
    uniques = np.unique(values)
    categorical = len(uniques) <= MAX_FACTOR_CATEGORIES
    return Colouring(values, chosen, categorical, [f"{v:.3g}" for v in uniques] if categorical else None)


@dataclass
class LatentMap:
    """Codes projected to the plane.

    Attributes:
        points: (N, 2) projected codes.
        axis_labels: names of the two axes.
        method: registered projection name.
        colouring: how to colour the points, or None.
        indices: (N,) which codes were drawn (a seeded subsample when capped).
    """

    points: np.ndarray
    axis_labels: list[str]
    method: str
    colouring: Colouring | None
    indices: np.ndarray


def latent_map(codes: torch.Tensor, colouring: Colouring | None = None, method: str = "pca", seed: int = 0,
               max_points: int | None = 5000) -> LatentMap:
    """Project (N, D) codes to 2-D with a registered ``method`` (``pca``, ``tsne``), on at most
    ``max_points`` of them (a seeded random subset, for t-SNE's cost and a readable plot)."""
    project = PROJECTIONS.get(method)
    x = codes.detach().cpu().float().numpy()
    if x.ndim != 2 or len(x) < 2:
        raise UserError(f"need (N >= 2, D) codes for a latent map, got {x.shape}")
    if colouring is not None and len(colouring.values) != len(x):
        raise UserError(f"{len(colouring.values)} colour values for {len(x)} codes")
    idx = np.arange(len(x))
    if max_points is not None:
        if max_points < 2:
            raise UserError(f"max_points must be >= 2, got {max_points}")
        if len(x) > max_points:
            idx = np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))
    points, labels = project(x[idx], seed)
    if colouring is not None:
        colouring = Colouring(colouring.values[idx], colouring.name, colouring.categorical, colouring.class_names)
    return LatentMap(points, labels, method, colouring, idx)
