"""Intrinsic dimension (ID) of point clouds: data, codes, features.

>>> from autoenc.measure.intrinsic_dim import estimate_all
>>> results = estimate_all(x, ["twonn", "mle", "gride", "pca"])  # doctest: +SKIP

Estimators (registry :data:`ESTIMATORS`): ``twonn`` (Facco et al. 2017), ``mle``
(Levina & Bickel 2004 with MacKay & Ghahramani's correction), ``gride`` (Denti et al.
2022, with a curve over neighbour ranks) and ``pca`` (a *linear* dimension). Each result
carries a spread from repeated subsamples and a curve against scale; see
:func:`estimate_all` and :class:`IDResult`.
"""

from autoenc.measure.intrinsic_dim.estimate import DEFAULT_ESTIMATORS, estimate_all
from autoenc.measure.intrinsic_dim.estimators import (
    ESTIMATORS,
    MLE,
    PCA,
    Estimate,
    Estimator,
    Gride,
    Sample,
    TwoNN,
    make_estimator,
)
from autoenc.measure.intrinsic_dim.neighbours import DEFAULT_CHUNK_BYTES, Neighbours, knn
from autoenc.measure.intrinsic_dim.points import DuplicatePointsWarning, as_points, drop_duplicates
from autoenc.measure.intrinsic_dim.result import IDResult, ScaleCurve

__all__ = [
    "DEFAULT_CHUNK_BYTES", "DEFAULT_ESTIMATORS", "ESTIMATORS", "MLE", "PCA", "DuplicatePointsWarning",
    "Estimate", "Estimator", "Gride", "IDResult", "Neighbours", "Sample", "ScaleCurve", "TwoNN", "as_points",
    "drop_duplicates", "estimate_all", "knn", "make_estimator",
]
