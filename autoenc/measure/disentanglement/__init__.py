"""Disentanglement metrics against ground-truth factors (pure functions on arrays).

Definitions follow disentanglement_lib (Locatello et al. 2019); see each module's docstring
for the paper and the equations. ``codes`` are (N, D) floats, ``factors`` (N, K) integer
factor indices; a metric that needs a test split draws one with its ``seed`` when none is
given. :func:`~autoenc.workflows.disentangle_run.disentangle` splits a ground truth's
images into disjoint training and test images first and draws codes from each side. Same
seed, same numbers.

    >>> from autoenc.measure.disentanglement import METRICS, mig, dci
    >>> mig(codes, factors).scores["mig"]
"""

from autoenc.measure.disentanglement.arrays import MetricResult, check_codes, check_factors
from autoenc.measure.disentanglement.information import (
    BINNINGS,
    DEFAULT_BINS,
    discretize,
    mig,
    mutual_info_matrix,
)
from autoenc.measure.disentanglement.interventional import (
    beta_vae_score,
    draw_codes,
    factor_vae_score,
    sample_codes,
)
from autoenc.measure.disentanglement.metrics import METRICS, Metric, evaluate, flat_scores
from autoenc.measure.disentanglement.predictors import (
    DCI_REGRESSORS,
    dci,
    dci_from_importance,
    sap,
)

__all__ = [
    "BINNINGS", "DCI_REGRESSORS", "DEFAULT_BINS", "draw_codes", "METRICS", "Metric", "MetricResult", "beta_vae_score", "check_codes", "check_factors", "dci",
    "dci_from_importance", "discretize", "evaluate", "factor_vae_score", "flat_scores", "mig", "mutual_info_matrix",
    "sample_codes", "sap",
]
