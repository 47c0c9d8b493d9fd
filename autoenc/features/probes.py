"""Probes: how much of the labels a cache's features hold, by a linear or kNN classifier.

"Retrain the last layer on cached bottlenecks": ``probe(cache)`` fits a scikit-learn pipeline
(StandardScaler + LogisticRegression or KNeighborsClassifier) on the cache's features, either on
a seeded stratified train/test split of one cache or on a train cache and a test cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoenc.errors import UserError
from autoenc.features.cache import FeatureCache, open_cache
from autoenc.registry import Registry

#: probe kind -> builder(seed, **options) of an unfitted scikit-learn classifier.
PROBES: Registry[Callable[..., Any]] = Registry("probe kind")


@PROBES.register("linear")
def linear_probe(seed: int = 0, C: float = 1.0, max_iter: int = 1000, **_: Any) -> Any:
    """Standardised features -> multinomial logistic regression (L2, strength 1/C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed))


@PROBES.register("knn")
def knn_probe(seed: int = 0, k: int = 5, **_: Any) -> Any:
    """Standardised features -> k nearest neighbours (Euclidean, majority vote)."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k))


@dataclass
class ProbeResult:
    """What a probe measured.

    Attributes:
        kind: ``linear`` or ``knn``.
        accuracy: fraction of test items classified correctly, in [0, 1].
        chance: accuracy of always answering the most frequent training class, on the test items.
        n_train, n_test: items used to fit / to score; n_classes: classes in the training items.
        report: per class name -> {"precision", "recall", "f1-score", "support"}.
    """

    kind: str
    accuracy: float
    chance: float
    n_train: int
    n_test: int
    n_classes: int
    report: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: accuracy vs chance, then one line per class."""
        lines = [f"{self.kind} probe: accuracy {self.accuracy:.4f} (chance {self.chance:.4f}), "
                 f"{self.n_train} train / {self.n_test} test items, {self.n_classes} classes",
                 f"{'class':>10}  precision  recall  f1     support"]
        for name, row in self.report.items():
            lines.append(f"{name:>10}  {row['precision']:.3f}      {row['recall']:.3f}   {row['f1-score']:.3f}  "
                         f"{int(row['support'])}")
        return "\n".join(lines)


def _labels(cache: FeatureCache, target_column: int | None) -> np.ndarray:
    if cache.targets is None:
        raise UserError(f"cache {str(cache.path)!r} has no targets (its data is unlabelled); probes need "
                        "labelled data: build the cache from a source with labels")
    y = np.asarray(cache.targets)
    if y.ndim == 2:
        if target_column is None:
            raise UserError(f"cache {str(cache.path)!r} holds {y.shape[1]} factor values per item, not class "
                            "labels; pass target_column (--target-column) to probe one factor")
        if not 0 <= target_column < y.shape[1]:
            raise UserError(f"target_column must be in [0, {y.shape[1] - 1}], got {target_column}")
        y = y[:, target_column]
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise UserError(f"cache {str(cache.path)!r} has non-finite targets; probes need class labels")
        # factor values are discrete grids: each distinct value is a class
        y = np.unique(y, return_inverse=True)[1]
    return y


def _as_cache(cache: FeatureCache | str | os.PathLike) -> FeatureCache:
    return cache if isinstance(cache, FeatureCache) else open_cache(cache)


def probe(cache: FeatureCache | str | os.PathLike, kind: str = "linear", *,
          test_cache: FeatureCache | str | os.PathLike | None = None, test_fraction: float = 0.25,
          seed: int = 0, target_column: int | None = None, **options: Any) -> ProbeResult:
    """Fit a ``kind`` probe on ``cache`` and score it on held-out items.

    Args:
        cache: a cache (or its path) with features (N, D) and class labels (N,).
        kind: a name in :data:`PROBES` (``linear``, ``knn``).
        test_cache: score on this cache (e.g. the ``val`` split) instead of a split of ``cache``.
        test_fraction: share of ``cache`` held out when there is no ``test_cache``, in (0, 1).
        seed: fixes the split and the classifier.
        target_column: which factor to probe when targets are (N, F) factor values.
        options: passed to the builder (``C``, ``max_iter`` for linear; ``k`` for knn).

    Raises:
        UserError: unknown kind, no targets, too few items or classes, mismatched feature sizes.
    """
    from sklearn.metrics import classification_report
    from sklearn.model_selection import train_test_split

    builder = PROBES.get(kind)
    train = _as_cache(cache)
    x, y = np.asarray(train.features), _labels(train, target_column)
    if test_cache is not None:
        test = _as_cache(test_cache)
        if test.dim != train.dim:
            raise UserError(f"test cache has {test.dim}-d features but the train cache {train.dim}-d; "
                            "use caches from the same encoder and layer")
        x_train, y_train, x_test, y_test = x, y, np.asarray(test.features), _labels(test, target_column)
    else:
        if not 0.0 < test_fraction < 1.0:
            raise UserError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 else None
        try:
            x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                                                stratify=stratify)
        except ValueError as err:
            raise UserError(f"cannot split {len(y)} items for a probe ({err}); use more data or a test cache") from None
    classes, counts = np.unique(y_train, return_counts=True)
    if len(classes) < 2:
        raise UserError(f"the probe's training items have {len(classes)} class; it needs at least 2")
    if kind == "knn" and options.get("k", 5) > len(y_train):
        raise UserError(f"k={options.get('k', 5)} exceeds the {len(y_train)} training items; lower k")
    model = builder(seed=seed, **options)
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    names = train.target_names if target_column is None and train.target_names else None
    labels = np.unique(np.concatenate([y_train, y_test]))
    target_names = [names[int(c)] if names and 0 <= int(c) < len(names) else str(c) for c in labels]
    report = classification_report(y_test, predicted, labels=labels, target_names=target_names,
                                   output_dict=True, zero_division=0)
    per_class = {name: report[name] for name in target_names}
    majority = classes[counts.argmax()]
    return ProbeResult(kind=kind, accuracy=float(np.mean(predicted == y_test)),
                       chance=float(np.mean(y_test == majority)), n_train=len(y_train), n_test=len(y_test),
                       n_classes=len(classes), report=per_class)
