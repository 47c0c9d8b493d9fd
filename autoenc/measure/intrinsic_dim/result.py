"""The output of every ID estimator: one JSON-serialisable dataclass."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ScaleCurve:
    """An estimate as a function of scale.

    Attributes:
        axis: what ``x`` is: "subsample size" (points used; TwoNN, MLE, PCA) or
            "neighbour rank n1" (Gride, with n2 = 2 n1).
        x: scale values, ascending for ranks and descending for sizes (full data first).
        value: the estimate at each scale (mean over the repeated subsamples for sizes).
        error: its spread at each scale: standard deviation over the repeated subsamples
            (sizes; None for the full data) or the maximum-likelihood standard error (ranks).
    """

    axis: str
    x: list[float]
    value: list[float]
    error: list[float | None]

    def to_dict(self) -> dict[str, Any]:
        return _json(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScaleCurve:
        return cls(str(data["axis"]), x=[_float(v) for v in data["x"]], value=[_float(v) for v in data["value"]],
                   error=[None if v is None else float(v) for v in data["error"]])


@dataclass(frozen=True)
class IDResult:
    """One intrinsic-dimension estimate with its uncertainty.

    Attributes:
        estimator: registered estimator name ("twonn", "mle", "gride", "pca").
        value: the estimate on all N points (dimensionless; PCA gives an integer).
        spread: its uncertainty from ``repeats`` subsamples without replacement of
            ``fraction * N`` points (delete-d jackknife, see
            :func:`~autoenc.measure.intrinsic_dim.estimate.jackknife_spread`);
            None when ``repeats`` was 0.
        n: number of (unique) points the estimate used.
        parameters: the estimator's parameters and the resampling settings.
        linear: True for a *linear* dimension (PCA), which bounds the intrinsic one from
            above and can exceed it greatly on curved data.
        extra: further named numbers (MLE at other k, Gride's standard error, PCA's
            participation ratio, ...).
        curve: the estimate against scale, or None.
        duplicates: exact duplicate points dropped before estimating.
    """

    estimator: str
    value: float
    spread: float | None
    n: int
    parameters: dict[str, Any] = field(default_factory=dict)
    linear: bool = False
    extra: dict[str, float] = field(default_factory=dict)
    curve: ScaleCurve | None = None
    duplicates: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; non-finite numbers become None (JSON has no NaN)."""
        return _json(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IDResult:
        """Inverse of :meth:`to_dict` (None values come back as NaN, spread stays None)."""
        curve = data.get("curve")
        return cls(estimator=str(data["estimator"]), value=_float(data["value"]),
                   spread=None if data.get("spread") is None else float(data["spread"]), n=int(data["n"]),
                   parameters=dict(data.get("parameters", {})), linear=bool(data.get("linear", False)),
                   extra={k: _float(v) for k, v in data.get("extra", {}).items()},
                   curve=None if curve is None else ScaleCurve.from_dict(curve),
                   duplicates=int(data.get("duplicates", 0)))


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _json(value: Any) -> Any:
    """Plain JSON types: numpy scalars -> Python numbers, tuples -> lists, NaN and inf -> None."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_results(results: list[IDResult], path: str | os.PathLike[str], **meta: Any) -> Path:
    """Write ``{**meta, "results": [r.to_dict() ...]}`` as JSON to ``path``; returns it."""
    path = Path(path)
    payload = {**_json(meta), "results": [r.to_dict() for r in results]}
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return path


def read_results(path: str | os.PathLike[str]) -> list[IDResult]:
    """The results stored by :func:`write_results`."""
    return [IDResult.from_dict(r) for r in json.loads(Path(path).read_text())["results"]]
