"""``autoenc probe``: linear / kNN classifier on a feature cache, generated from :func:`probe_cache`.

    autoenc probe cache/digits-train --test_cache cache/digits-val --kind knn

Its own module: a command without data options answers ``--help`` without importing torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from autoenc.cli._checks import INDEX, OPTIONAL_COUNT, OPTIONAL_PATH, PATH, SEED
from autoenc.cli._generate import Generated
from autoenc.cli.features import emit
from autoenc.constraints import Interval, Null, Options


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
) -> int:
    """Train a linear (logistic regression) or kNN probe on training items of a feature cache.

    Reports its accuracy on held-out items (95% Wilson interval) against chance (the held-out
    items' majority-class rate), per class.

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
    """
    import json as json_module
    from dataclasses import asdict

    from autoenc.atomic import atomic_file
    from autoenc.features import probe as run_probe

    options = {name: value for name, value in (("k", k), ("C", C)) if value is not None}
    result = run_probe(cache, kind, test_cache=test_cache, test_fraction=test_fraction,
                       seed=seed, target_column=target_column, **options)
    if json is not None:
        with atomic_file(json, "w") as f:
            json_module.dump(asdict(result), f, indent=2)
    emit(result.summary())
    return 0


probe_command = Generated(probe_cache, "autoenc probe", positional=("cache",), params={
    "cache": [PATH], "kind": [Options(["linear", "knn"])], "test_cache": OPTIONAL_PATH,
    "test_fraction": [Interval(float, 0, 1, closed="neither")], "seed": [SEED], "k": OPTIONAL_COUNT,
    "C": [Interval(float, 0, None, closed="neither"), Null()], "target_column": [INDEX, Null()], "json": OPTIONAL_PATH})
