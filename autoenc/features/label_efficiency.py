"""Label efficiency: probe accuracy against the number of labelled items per class.

The question users ask of a narrower bottleneck: how many labels does a classifier on these
features need, and how much accuracy does compression cost? :func:`label_efficiency` splits a
cache once into a pool and a test split (seeded, stratified), then
:func:`label_efficiency_arrays` for each count ``m`` draws ``m`` items per class from the pool
``draws`` times, fits a probe (:data:`~autoenc.features.probes.PROBES`) on each draw and scores
it on the same test items. The spread over draws is what the reported interval describes (a t
interval of the mean accuracy); ``all`` uses the whole pool once. A bottleneck sweep calls
:func:`label_efficiency_arrays` on the codes of each size.
"""

from __future__ import annotations

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


def check_counts(y_pool: np.ndarray, counts: Sequence[int | str]) -> int:
    """Refuse a pool of fewer than 2 classes and counts larger than its smallest class (one line);
    returns that class's size.

    Args:
        y_pool: (N,) class labels of the items labels are drawn from.
        counts: parsed counts (:func:`parse_counts`).
    """
    classes, sizes = np.unique(y_pool, return_counts=True)
    if len(classes) < 2:
        raise UserError(f"the training items hold {len(classes)} class; label efficiency needs at least 2")
    smallest = int(sizes.min())
    too_many = [m for m in counts if m != ALL and m > smallest]
    if too_many:
        raise UserError(f"labels_per_class {too_many[0]} is larger than the smallest class ({smallest} training "
                        f"items of class {classes[sizes.argmin()]}); use counts <= {smallest} or 'all'")
    return smallest


def label_efficiency(cache: FeatureCache | str | os.PathLike, labels_per_class: str | Sequence[int | str], *,
                     kind: str = "linear", draws: int = 5, test_fraction: float = 0.25,
                     test_cache: FeatureCache | str | os.PathLike | None = None, seed: int = 0,
                     target_column: int | None = None, **options: Any) -> LabelEfficiency:
    """Probe accuracy against the number of labelled items per class, on a feature cache
    (:func:`label_efficiency_arrays` of its split).

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
    _check_arguments(kind, PROBES.get(kind), test_fraction, seed, target_column, options)
    train = cache if isinstance(cache, FeatureCache) else open_cache(cache)
    x_pool, y_pool, x_test, y_test = _split(train, test_cache, test_fraction, seed, target_column)
    return label_efficiency_arrays(x_pool, y_pool, x_test, y_test, counts, kind=kind, draws=draws, seed=seed,
                                   **options)


def label_efficiency_arrays(x_pool: np.ndarray, y_pool: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                            labels_per_class: str | Sequence[int | str], *, kind: str = "linear", draws: int = 5,
                            seed: int = 0, **options: Any) -> LabelEfficiency:
    """Probe accuracy against the number of labelled items per class, on arrays.

    For each count m, ``draws`` times: m items of each class drawn from the pool (seeded by
    ``seed``, so the same items for any features of the same pool), a probe fitted on them and
    scored on every test item; ``all`` fits the whole pool once.

    Args:
        x_pool: (N, D) features labels are drawn from; y_pool: (N,) their class labels.
        x_test: (M, D) features scored; y_test: (M,) their class labels.
        labels_per_class, kind, draws, options: as :func:`label_efficiency`.
        seed: seed of the draws and of the probe.

    Returns:
        one :class:`LabelPoint` per count, in the order given.

    Raises:
        UserError: bad counts, draws or options; fewer than 2 classes or a count larger than the
            smallest class of the pool.
    """
    counts = parse_counts(labels_per_class)
    check_params(PARAMS, {"draws": draws})
    builder = PROBES.get(kind)
    smallest = check_counts(y_pool, counts)
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y_pool == c) for c in np.unique(y_pool)]
    points = []
    for m in counts:
        accuracies = []
        for _ in range(1 if m == ALL else draws):
            idx = np.arange(len(y_pool)) if m == ALL else \
                np.concatenate([rng.choice(items, m, replace=False) for items in by_class])
            model = builder(seed=seed, n_train=len(idx), **options)
            model.fit(x_pool[idx], y_pool[idx])
            accuracies.append(float(np.mean(model.predict(x_test) == y_test)))
        points.append(LabelPoint.of(m, len(idx), accuracies))
    _, test_counts = np.unique(y_test, return_counts=True)
    return LabelEfficiency(kind, points, float(test_counts.max() / len(y_test)), len(y_test), len(by_class), smallest)
