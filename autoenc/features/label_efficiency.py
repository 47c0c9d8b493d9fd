"""Label efficiency: probe accuracy against the number of labelled items per class.

The question users ask of a narrower bottleneck: how many labels does a classifier on these
features need, and how much accuracy does compression cost? :func:`label_efficiency` splits a
cache once into a pool and a test split (seeded, stratified), then for each count ``m`` draws
``m`` items per class from the pool ``draws`` times, fits a probe
(:data:`~autoenc.features.probes.PROBES`) on each draw and scores it on the same test items.
The spread over draws is what the reported interval describes (a t interval of the mean
accuracy); ``all`` uses the whole pool once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from autoenc.core.constraints import Interval, check_params
from autoenc.core.errors import UserError
from autoenc.features.cache import FeatureCache, open_cache
from autoenc.features.probes import PROBES, _check_arguments, _split
from autoenc.measure.label_curve import ALL, LabelEfficiency, LabelPoint

PARAMS = {"draws": [Interval(int, 1, None, closed="left", note="random label draws per count")]}


def parse_counts(counts: str | Sequence[int | str]) -> list[int | str]:
    """``"1,10,all"`` or ``[1, 10, "all"]`` -> ``[1, 10, "all"]``; a one-line error for anything
    but integers >= 1 and ``all``."""
    items = counts.split(",") if isinstance(counts, str) else list(counts)
    out: list[int | str] = []
    for item in items:
        text = str(item).strip()
        if text == ALL:
            out.append(ALL)
        elif text.isdigit() and int(text) >= 1:
            out.append(int(text))
        else:
            raise UserError(f"labels_per_class must be integers >= 1 or 'all', separated by commas, got {item!r}")
    if not out:
        raise UserError("labels_per_class is empty; give e.g. 1,10,100,all")
    return out


def _t_interval(values: np.ndarray) -> tuple[float, float]:
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean
    try:
        from scipy.stats import t

        quantile = float(t.ppf(0.975, len(values) - 1))
    except ImportError:  # the normal quantile: a little narrower than t for few draws
        quantile = 1.959964
    half = quantile * float(values.std(ddof=1)) / math.sqrt(len(values))
    return max(0.0, mean - half), min(1.0, mean + half)


def label_efficiency(cache: FeatureCache | str | os.PathLike, labels_per_class: str | Sequence[int | str], *,
                     kind: str = "linear", draws: int = 5, test_fraction: float = 0.25,
                     test_cache: FeatureCache | str | os.PathLike | None = None, seed: int = 0,
                     target_column: int | None = None, **options: Any) -> LabelEfficiency:
    """Probe accuracy against the number of labelled items per class.

    Args:
        cache: a cache (or its path) with (N, D) features and class labels.
        labels_per_class: counts m >= 1 and/or ``"all"``, e.g. ``"1,10,100,all"``.
        kind: a probe in :data:`~autoenc.features.probes.PROBES`; options: its options (``C``, ``k``).
        draws: random draws of m items per class for each m (``all`` is drawn once).
        test_fraction, test_cache, seed, target_column: as :func:`~autoenc.features.probe`.

    Returns:
        one :class:`LabelPoint` per count: per-draw accuracies, their mean and 95% t interval.

    Raises:
        UserError: a count larger than the pool's smallest class, bad counts or options, a cache
            without labels.
    """
    counts = parse_counts(labels_per_class)
    check_params(PARAMS, {"draws": draws})
    builder = PROBES.get(kind)
    _check_arguments(kind, builder, test_fraction, seed, target_column, options)
    train = cache if isinstance(cache, FeatureCache) else open_cache(cache)
    x_pool, y_pool, x_test, y_test = _split(train, test_cache, test_fraction, seed, target_column)
    classes, sizes = np.unique(y_pool, return_counts=True)
    if len(classes) < 2:
        raise UserError(f"the training items hold {len(classes)} class; label efficiency needs at least 2")
    smallest = int(sizes.min())
    too_many = [m for m in counts if m != ALL and m > smallest]
    if too_many:
        raise UserError(f"labels_per_class {too_many[0]} is larger than the smallest class ({smallest} training "
                        f"items of class {classes[sizes.argmin()]}); use counts <= {smallest} or 'all'")
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y_pool == c) for c in classes]
    points = []
    for m in counts:
        accuracies = []
        for _ in range(1 if m == ALL else draws):
            idx = np.arange(len(y_pool)) if m == ALL else \
                np.concatenate([rng.choice(items, m, replace=False) for items in by_class])
            model = builder(seed=seed, n_train=len(idx), **options)
            model.fit(x_pool[idx], y_pool[idx])
            accuracies.append(float(np.mean(model.predict(x_test) == y_test)))
        values = np.array(accuracies)
        low, high = _t_interval(values)
        points.append(LabelPoint(m, len(idx), accuracies, float(values.mean()),
                                 float(values.std(ddof=1)) if len(values) > 1 else 0.0, low, high))
    _, test_counts = np.unique(y_test, return_counts=True)
    return LabelEfficiency(kind, points, float(test_counts.max() / len(y_test)), len(y_test), len(classes), smallest)
