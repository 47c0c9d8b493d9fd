"""``autoenc probe``: linear / kNN classifier on a feature cache, generated from :func:`probe_cache`.

    autoenc probe cache/digits-train --test_cache cache/digits-val --kind knn

Its own module: a command without data options answers ``--help`` without importing torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from autoenc.cli._generate import Generated
from autoenc.cli.features import emit
from autoenc.cli.option_checks import INDEX, NAME, OPTIONAL_COUNT, OPTIONAL_PATH, PATH, SEED
from autoenc.core.constraints import POSITIVE_INT, Interval, Null, Options


def probe_cache(
    cache: Path,
    *,
    kind: Literal["linear", "knn"] = "linear",
    test_cache: Path | None = None,
    test_fraction: float = 0.25,
    seed: int = 0,
    k: int | None = None,
    C: float | None = None,  # noqa: N803 (scikit-learn's name)
    target_column: int | None = None,
    json: Path | None = None,
    labels_per_class: str | None = None,
    draws: int = 5,
    plot: Path | None = None,
) -> int:
    """Train a linear (logistic regression) or kNN probe on training items of a feature cache.

    Reports its accuracy on held-out items (95% Wilson interval) against chance (the held-out
    items' majority-class rate), per class. With --labels_per_class: accuracy against the
    number of labelled items per class (a table, and a plot with --plot), over --draws draws.

    Args:
        cache: feature cache directory (from `autoenc features`).
        kind: the probe.
        test_cache: score on this cache instead of a split of CACHE.
        test_fraction: share of CACHE held out for testing, in (0, 1), without --test_cache.
        seed: split and classifier seed.
        k: knn: neighbours, 1 <= k <= training items (default 5).
        C: linear: inverse L2 strength, > 0 (default 1.0).
        target_column: which factor, when targets are factor values.
        json: also write the result as JSON to this file.
        labels_per_class: counts of labelled items per class, e.g. 1,10,100,all: label efficiency.
        draws: label efficiency: random draws per count (the interval is over them).
        plot: label efficiency: write its plot (PNG) to this file.
    """
    import json as json_module
    from dataclasses import asdict

    from autoenc.core.atomic import atomic_file
    from autoenc.features import probe as run_probe

    options = {name: value for name, value in (("k", k), ("C", C)) if value is not None}
    if labels_per_class is not None:
        return _label_efficiency(cache, labels_per_class, kind=kind, draws=draws, test_cache=test_cache,
                                 test_fraction=test_fraction, seed=seed, target_column=target_column, json=json,
                                 plot=plot, options=options)
    if plot is not None:
        from autoenc.core.errors import UserError

        raise UserError("--plot applies only with --labels_per_class")
    result = run_probe(cache, kind, test_cache=test_cache, test_fraction=test_fraction,
                       seed=seed, target_column=target_column, **options)
    if json is not None:
        with atomic_file(json, "w") as f:
            json_module.dump(asdict(result), f, indent=2)
    emit(result.summary())
    return 0


def _label_efficiency(cache: Path, counts: str, *, json: Path | None, plot: Path | None, options: dict,
                      **kwargs: object) -> int:
    import json as json_module

    from autoenc.core.atomic import atomic_file, check_file_creatable
    from autoenc.features.label_efficiency import label_efficiency

    for path in (json, plot):
        if path is not None:
            check_file_creatable(path)
    result = label_efficiency(cache, counts, **kwargs, **options)
    if json is not None:
        with atomic_file(json, "w") as f:
            json_module.dump(result.to_dict(), f, indent=2)
    if plot is not None:
        from autoenc.render.label_efficiency_plots import plot_label_efficiency

        with atomic_file(plot, "wb") as f:
            plot_label_efficiency(result, title=f"{cache.name}: accuracy vs labels").savefig(f, format="png", dpi=120)
    emit(result.table())
    return 0


probe_command = Generated(probe_cache, "autoenc probe", positional=("cache",), params={
    "cache": [PATH], "kind": [Options(["linear", "knn"])], "test_cache": OPTIONAL_PATH,
    "test_fraction": [Interval(float, 0, 1, closed="neither")], "seed": [SEED], "k": OPTIONAL_COUNT,
    "C": [Interval(float, 0, None, closed="neither"), Null()], "target_column": [INDEX, Null()], "json": OPTIONAL_PATH,
    "labels_per_class": [NAME, Null()], "draws": [POSITIVE_INT], "plot": OPTIONAL_PATH})
