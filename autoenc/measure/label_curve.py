"""Accuracy against the number of labels: the result of a label-efficiency run (computed by
:func:`autoenc.features.label_efficiency.label_efficiency`, drawn by
:mod:`autoenc.render.label_efficiency_plots`), its interval over draws, and the pooling of the
curves of several seeds (a bottleneck sweep's size)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy.stats import t

ALL = "all"


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """95% Student's t interval of the mean of ``values`` (len - 1 degrees of freedom), clipped
    to [0, 1]; (mean, mean) for a single value."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean
    half = float(t.ppf(0.975, len(values) - 1)) * float(values.std(ddof=1)) / math.sqrt(len(values))
    return max(0.0, mean - half), min(1.0, mean + half)


@dataclass(frozen=True)
class LabelPoint:
    """Accuracy with ``labels_per_class`` labelled items of each class.

    Attributes:
        labels_per_class: m, or ``"all"`` (the whole pool).
        n_train: items fitted on per draw (m x classes, or the pool).
        accuracies: test accuracy of each draw, in [0, 1].
        mean, std: over the draws (std 0 for one draw).
        ci_low, ci_high: 95% t interval of the mean over draws (Student's t, draws - 1 degrees of
            freedom); equal to the mean for one draw.
    """

    labels_per_class: int | str
    n_train: int
    accuracies: list[float]
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, labels_per_class: int | str, n_train: int, accuracies: Sequence[float]) -> LabelPoint:
        """The point of these per-draw accuracies: their mean, std and :func:`t_interval`."""
        values = np.asarray(accuracies, dtype=float)
        low, high = t_interval(values)
        return cls(labels_per_class, n_train, [float(a) for a in values], float(values.mean()),
                   float(values.std(ddof=1)) if len(values) > 1 else 0.0, low, high)


@dataclass(frozen=True)
class LabelEfficiency:
    """The accuracy-vs-labels curve of one cache.

    Attributes:
        kind: the probe (``linear``, ``knn``).
        points: one per count, in the order asked.
        chance: the test items' majority-class rate.
        n_test: held-out items every draw is scored on; n_classes: classes in the pool.
        smallest_class: items of the pool's smallest class (the largest m possible).
    """

    kind: str
    points: list[LabelPoint]
    chance: float
    n_test: int
    n_classes: int
    smallest_class: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelEfficiency:
        """The inverse of :meth:`to_dict` (e.g. read back from JSON)."""
        return cls(**{**data, "points": [LabelPoint(**p) for p in data["points"]]})

    def table(self) -> str:
        """A text table: labels per class, training items, mean accuracy, 95% interval, std, draws."""
        lines = [f"{self.kind} probe, accuracy against labels per class ({self.n_test} test items, "
                 f"{self.n_classes} classes, chance {self.chance:.4f})",
                 f"{'labels/class':>12}  {'n_train':>7}  {'accuracy':>8}  {'95% CI (draws)':>15}  {'std':>6}  draws"]
        for p in self.points:
            lines.append(f"{p.labels_per_class!s:>12}  {p.n_train:>7}  {p.mean:8.4f}  {p.ci_low:.4f}-{p.ci_high:.4f}  "
                         f"{p.std:6.4f}  {len(p.accuracies)}")
        return "\n".join(lines)


def pool_curves(curves: Sequence[LabelEfficiency]) -> LabelEfficiency:
    """One curve from the curves of several seeds of one bottleneck size, measured on the same
    items with the same counts: each point pools the per-draw accuracies of all seeds, so its
    interval spans the spread of draws and seeds together (treated as one sample)."""
    first = curves[0]
    if any([p.labels_per_class for p in c.points] != [p.labels_per_class for p in first.points] for c in curves):
        raise ValueError("pooled label-efficiency curves must have the same counts")
    points = [LabelPoint.of(p.labels_per_class, p.n_train, [a for c in curves for a in c.points[i].accuracies])
              for i, p in enumerate(first.points)]
    return replace(first, points=points)
