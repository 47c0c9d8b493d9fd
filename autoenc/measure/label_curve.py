"""Accuracy against the number of labels: the result of a label-efficiency run (computed by
:func:`autoenc.features.label_efficiency.label_efficiency`, drawn by
:mod:`autoenc.render.label_efficiency_plots`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ALL = "all"


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

    def table(self) -> str:
        """A text table: labels per class, training items, mean accuracy, 95% interval, std, draws."""
        lines = [f"{self.kind} probe, accuracy against labels per class ({self.n_test} test items, "
                 f"{self.n_classes} classes, chance {self.chance:.4f})",
                 f"{'labels/class':>12}  {'n_train':>7}  {'accuracy':>8}  {'95% CI (draws)':>15}  {'std':>6}  draws"]
        for p in self.points:
            lines.append(f"{p.labels_per_class!s:>12}  {p.n_train:>7}  {p.mean:8.4f}  {p.ci_low:.4f}-{p.ci_high:.4f}  "
                         f"{p.std:6.4f}  {len(p.accuracies)}")
        return "\n".join(lines)
