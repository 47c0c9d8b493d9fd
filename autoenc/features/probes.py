"""Probes: how much of the labels a cache's features hold, by a linear or kNN classifier.

"Retrain the last layer on cached bottlenecks": ``probe(cache)`` fits a scikit-learn pipeline
(StandardScaler + LogisticRegression or KNeighborsClassifier) on the cache's features, either on
a seeded stratified train/test split of one cache or on a train cache and a test cache, and
reports the accuracy on the held-out items with its 95% Wilson interval next to chance (the
test items' majority-class rate).
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoenc.core.errors import UserError
from autoenc.core.registry import Registry
from autoenc.features.cache import FeatureCache, open_cache

#: probe kind -> builder(seed, n_train=None, **options) of an unfitted scikit-learn classifier. A
#: builder validates its own options (one-line UserError naming the option, its range and the value);
#: ``n_train`` (items it will be fitted on, None when not yet known) bounds options such as k.
PROBES: Registry[Callable[..., Any]] = Registry("probe kind")


def _check_int(name: str, value: Any, low: int, high: int | None = None, meaning: str = "") -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low
    if high is not None:
        ok = ok and value <= high
    if not ok:
        allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise UserError(f"{name} must be {allowed}{f' ({meaning})' if meaning else ''}, got {value!r}")


@PROBES.register("linear")
def linear_probe(seed: int = 0, C: float = 1.0, max_iter: int = 1000, n_train: int | None = None) -> Any:
    """Standardised features -> multinomial logistic regression (L2, strength 1/C); any n_train."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if isinstance(C, bool) or not isinstance(C, (int, float)) or not math.isfinite(C) or C <= 0:
        raise UserError(f"C must be a number > 0 (inverse L2 strength), got {C!r}")
    _check_int("max_iter", max_iter, 1, meaning="solver iterations")
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed))


@PROBES.register("knn")
def knn_probe(seed: int = 0, k: int = 5, n_train: int | None = None) -> Any:
    """Standardised features -> k nearest neighbours (Euclidean, majority vote); 1 <= k <= n_train."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _check_int("k", k, 1, meaning="neighbours")
    if n_train is not None:
        _check_int("k", k, 1, n_train, meaning="the number of training items")
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k))


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``successes / n`` (95% for the default
    z, the two-sided normal quantile), from scipy's ``binomtest(...).proportion_ci``.

    E. B. Wilson (1927), "Probable inference, the law of succession, and statistical inference",
    JASA 22: the centre is pulled towards 1/2, so it stays inside [0, 1] and covers well even
    at 0 or n successes, where the normal approximation collapses to a point. (0, 1) when n = 0.
    """
    from scipy.stats import binomtest, norm

    if n <= 0:
        return 0.0, 1.0
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=float(1 - 2 * norm.sf(z)), method="wilson")
    return float(ci.low), float(ci.high)


@dataclass
class ProbeResult:
    """What a probe measured.

    Attributes:
        kind: ``linear`` or ``knn``.
        accuracy: fraction of test items classified correctly, in [0, 1].
        ci_low, ci_high: the 95% Wilson interval of ``accuracy`` over the n_test items.
        chance: the majority-class rate of the test items (the accuracy of always answering the
            test split's most frequent class): what a probe must beat.
        n_train, n_test: items used to fit / held out to score (disjoint); n_classes: classes in
            the training items.
        report: per class name -> {"precision", "recall", "f1-score", "support"}.
    """

    kind: str
    accuracy: float
    ci_low: float
    ci_high: float
    chance: float
    n_train: int
    n_test: int
    n_classes: int
    report: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: accuracy with its interval vs chance, then one line per class."""
        lines = [f"{self.kind} probe: accuracy {self.accuracy:.4f} (95% CI {self.ci_low:.4f}-{self.ci_high:.4f}, "
                 f"Wilson), chance {self.chance:.4f} (majority class of the test split); trained on "
                 f"{self.n_train} train items, tested on {self.n_test} held-out items, {self.n_classes} classes",
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
    if y.ndim == 1 and target_column is not None:
        raise UserError(f"target_column must be None for class labels (cache {str(cache.path)!r} holds one "
                        f"label per item), got {target_column!r}")
    if y.ndim == 2:
        if target_column is None:
            raise UserError(f"cache {str(cache.path)!r} holds {y.shape[1]} factor values per item, not class "
                            "labels; pass target_column (--target_column) to probe one factor")
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


def _check_arguments(kind: str, builder: Callable[..., Any], test_fraction: float, seed: int,
                     target_column: int | None, options: dict[str, Any]) -> None:
    """Refuse bad probe arguments before any cache is read (one line each)."""
    own = [n for n in inspect.signature(builder).parameters if n not in ("seed", "n_train")]
    for name in options:
        if name not in own:
            raise UserError(f"{name} does not apply to the {kind} probe (its options: {', '.join(own) or 'none'})")
    _check_int("seed", seed, 0)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise UserError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    if target_column is not None:
        _check_int("target_column", target_column, 0, meaning="a factor's index")
    builder(seed=seed, **options)  # each builder checks its own options' ranges


def _split(train: FeatureCache, test_cache: FeatureCache | str | os.PathLike | None, test_fraction: float,
           seed: int, target_column: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train (n, D), y_train (n,), x_test (m, D), y_test (m,)): ``test_cache`` whole, or a seeded
    stratified split of ``train`` whose test items are never trained on."""
    from sklearn.model_selection import train_test_split

    x, y = np.asarray(train.features), _labels(train, target_column)
    if test_cache is not None:
        test = _as_cache(test_cache)
        if test.dim != train.dim:
            raise UserError(f"test cache has {test.dim}-d features but the train cache {train.dim}-d; "
                            "use caches from the same encoder and layer")
        return x, y, np.asarray(test.features), _labels(test, target_column)
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    try:
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                                            stratify=stratify)
    except ValueError as err:
        raise UserError(f"cannot split {len(y)} items for a probe ({err}); use more data or a test cache") from None
    return x_train, y_train, x_test, y_test


def _per_class(train: FeatureCache, target_column: int | None, y_train: np.ndarray, y_test: np.ndarray,
               predicted: np.ndarray) -> dict[str, dict[str, float]]:
    from sklearn.metrics import classification_report

    names = train.target_names if target_column is None and train.target_names else None
    labels = np.unique(np.concatenate([y_train, y_test]))
    target_names = [names[int(c)] if names and 0 <= int(c) < len(names) else str(c) for c in labels]
    report = classification_report(y_test, predicted, labels=labels, target_names=target_names,
                                   output_dict=True, zero_division=0)
    return {name: report[name] for name in target_names}


def probe(cache: FeatureCache | str | os.PathLike, kind: str = "linear", *,
          test_cache: FeatureCache | str | os.PathLike | None = None, test_fraction: float = 0.25,
          seed: int = 0, target_column: int | None = None, **options: Any) -> ProbeResult:
    """Fit a ``kind`` probe on training items of ``cache`` and score it on held-out items.

    Args:
        cache: a cache (or its path) with features (N, D) and class labels (N,).
        kind: a name in :data:`PROBES` (``linear``, ``knn``).
        test_cache: score on this cache (e.g. the ``val`` split) instead of a split of ``cache``.
        test_fraction: share of ``cache`` held out when there is no ``test_cache``, in (0, 1).
        seed: fixes the split and the classifier; an integer >= 0.
        target_column: which factor to probe when targets are (N, F) factor values.
        options: the builder's options (``C`` > 0, ``max_iter`` >= 1 for linear; 1 <= ``k`` <=
            training items for knn).

    Returns:
        accuracy with its 95% Wilson interval, the test split's majority-class rate (chance),
        per-class precision / recall.

    Raises:
        UserError: unknown kind or option, an option out of range (checked before any cache is
            read), no targets, too few items or classes, mismatched feature sizes, a damaged cache.
    """
    builder = PROBES.get(kind)
    _check_arguments(kind, builder, test_fraction, seed, target_column, options)
    train = _as_cache(cache)
    x_train, y_train, x_test, y_test = _split(train, test_cache, test_fraction, seed, target_column)
    classes = np.unique(y_train)
    if len(classes) < 2:
        raise UserError(f"the probe's training items have {len(classes)} class; it needs at least 2")
    model = builder(seed=seed, n_train=len(y_train), **options)
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    correct = int(np.sum(predicted == y_test))
    low, high = wilson_interval(correct, len(y_test))
    _, test_counts = np.unique(y_test, return_counts=True)
    return ProbeResult(kind=kind, accuracy=correct / len(y_test), ci_low=low, ci_high=high,
                       chance=float(test_counts.max() / len(y_test)), n_train=len(y_train), n_test=len(y_test),
                       n_classes=len(classes), report=_per_class(train, target_column, y_train, y_test, predicted))
