"""Metrics that fit predictors of the factors from the codes: DCI and SAP.

* DCI (Eastwood & Williams 2018, "A Framework for the Quantitative Evaluation of
  Disentangled Representations"), as disentanglement_lib's ``dci.py``: one
  ``GradientBoostingClassifier`` (scikit-learn defaults) per factor on all latents; the
  (D, K) importance matrix R holds |feature_importances_|. Disentanglement is
  sum_j rho_j (1 - H_K(P_j.)) with P_jk = R_jk / sum_k R_jk and rho_j the share of latent j
  in the total importance; completeness is the same over factors (1 - H_D(P~_.k)),
  informativeness the classifiers' accuracy on the training and test codes. The per-factor
  fits are independent and run in parallel (joblib threads, each limited to its share of the
  cores' OpenMP threads: :func:`threads_per_job`). The predictor is a registry choice
  (:data:`DCI_REGRESSORS`): ``gbt`` (disentanglement_lib's, the default), ``hist_gbt``
  (scikit-learn's histogram boosting with permutation importances: the fast one; its
  agreement with ``gbt`` is measured by ``scripts/bench_disentangle.py speed``), ``lasso``
  (L1-penalised logistic regression on z-scored latents, importance = sum over classes of
  |coefficient|, in the spirit of Eastwood & Williams' LASSO) and ``forest`` (random forest,
  impurity importances, as Eastwood & Williams). DCI disentanglement weighs each latent's
  spread over K factors and is 1 for any codes when K = 1, so one factor is refused.
* SAP (Kumar et al. 2018, "Variational Inference of Disentangled Latent Concepts from
  Unlabeled Observations", Sec. 3), as disentanglement_lib's ``sap_score.py`` with discrete
  factors: the test accuracy of a linear SVM (``LinearSVC(C=0.01, class_weight="balanced")``)
  predicting factor k from latent j alone fills a (D, K) score matrix; SAP is the mean over
  factors of the gap between the two best latents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autoenc.core.errors import UserError
from autoenc.core.registry import Registry
from autoenc.measure.disentanglement.arrays import DEFAULT_TEST_FRACTION, MetricResult, check_split

#: disentanglement_lib adds this to the importances before taking entropies (dci.py).
_EPS = 1e-11
#: Shuffles per latent of the hist_gbt permutation importances (agreement with 5 and with gbt:
#: docs/benchmarks.md, "## Disentanglement").
PERMUTATION_REPEATS = 2


def _n_jobs(n_jobs: int | None, tasks: int) -> int:
    if n_jobs is None or n_jobs < 1:
        from joblib import cpu_count

        n_jobs = cpu_count()
    return max(1, min(n_jobs, tasks))


def threads_per_job(jobs: int, available: int | None = None) -> int:
    """OpenMP threads each of ``jobs`` fits running at once may use, so that jobs x threads stays
    within ``available`` (default: the cores joblib sees, affinity and cgroup quotas included, capped
    by the caller's OpenMP limit, i.e. OMP_NUM_THREADS or an enclosing ``threadpool_limits``); at least 1."""
    if available is None:
        import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime, so threadpoolctl sees it)
        from joblib import cpu_count
        from threadpoolctl import threadpool_info

        limits = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"]
        available = min([cpu_count(), *limits])
    return max(1, available // max(1, jobs))


def _fit_limited(fit: Callable[..., Fit], threads: int, *args: Any) -> Fit:
    """``fit(*args)`` with at most ``threads`` OpenMP threads (histogram boosting's). OpenMP's limit
    holds for the calling thread only, so each joblib worker thread sets its own; BLAS limits are
    process-wide, and setting them from several threads at once would race, so they are left alone."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="openmp"):
        return fit(*args)


def _one_minus_entropy(weights: np.ndarray) -> np.ndarray:
    """1 - H(p) / log(n) for each row p ∝ weights + eps of an (R, n) matrix; 1 when n == 1."""
    n = weights.shape[1]
    if n == 1:
        return np.ones(len(weights))
    p = weights + _EPS
    p = p / p.sum(axis=1, keepdims=True)
    return 1.0 - (-(p * np.log(p)).sum(axis=1) / np.log(n))


def dci_from_importance(importance: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of a (D, K) non-negative importance matrix
    (Eastwood & Williams 2018, Eqs. 2-3; all-zero importances count as uniform)."""
    weights = importance if importance.sum() > 0 else np.ones_like(importance)
    per_code = _one_minus_entropy(importance)
    per_factor = _one_minus_entropy(importance.T)
    code_share = weights.sum(axis=1) / weights.sum()
    factor_share = weights.sum(axis=0) / weights.sum()
    return float((per_code * code_share).sum()), float((per_factor * factor_share).sum())


Fit = tuple[np.ndarray, float, float]  # (importance (D,), train accuracy, test accuracy)


@dataclass(frozen=True)
class DciRegressor:
    """How DCI predicts one factor from all latents: ``fit(x, y, x_test, y_test, seed)`` returns
    the (D,) non-negative importances and the training and test accuracies."""

    fit: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], Fit]
    summary: str


def _accuracies(model: Any, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> tuple[float, float]:
    return float(np.mean(model.predict(x) == y)), float(np.mean(model.predict(x_test) == y_test))


def _fit_gbt(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int) -> Fit:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(random_state=seed).fit(x, y)
    return (np.abs(model.feature_importances_), *_accuracies(model, x, y, x_test, y_test))


def _fit_hist_gbt(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int) -> Fit:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance

    # HistGradientBoosting has no impurity importances: use the drop in training accuracy when
    # a latent is shuffled (mean over PERMUTATION_REPEATS shuffles, clipped at 0; predicting the
    # shuffled copies is most of the cost, and 2 shuffles give 5's D and C to 0.001). 50 rounds
    # at rate 0.2 and 63 bins keep it fast; its agreement with "gbt" is in docs/benchmarks.md.
    model = HistGradientBoostingClassifier(max_iter=50, learning_rate=0.2, max_bins=63, early_stopping=False,
                                           random_state=seed).fit(x, y)
    found = permutation_importance(model, x, y, n_repeats=PERMUTATION_REPEATS, random_state=seed)
    return (np.clip(found.importances_mean, 0.0, None), *_accuracies(model, x, y, x_test, y_test))


def _fit_lasso(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int) -> Fit:
    from sklearn.linear_model import LogisticRegression

    x, x_test = _standardize(x, x_test)
    model = LogisticRegression(l1_ratio=1.0, solver="saga", C=0.1, max_iter=300, random_state=seed).fit(x, y)
    return (np.abs(model.coef_).sum(axis=0), *_accuracies(model, x, y, x_test, y_test))


def _fit_forest(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int) -> Fit:
    from sklearn.ensemble import RandomForestClassifier

    # every latent at every split (max_features=None): with the default sqrt(D) a noise latent
    # is often the only candidate and collects importance
    model = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, max_features=None,
                                   random_state=seed).fit(x, y)
    return (np.abs(model.feature_importances_), *_accuracies(model, x, y, x_test, y_test))


DCI_REGRESSORS: Registry[DciRegressor] = Registry("DCI regressor")
DCI_REGRESSORS.register("gbt", DciRegressor(_fit_gbt, "GradientBoostingClassifier, impurity importances "
                                                      "(disentanglement_lib; slow)"))
DCI_REGRESSORS.register("hist_gbt", DciRegressor(_fit_hist_gbt, "HistGradientBoostingClassifier, permutation "
                                                                "importances (fast)"))
DCI_REGRESSORS.register("lasso", DciRegressor(_fit_lasso, "L1-penalised logistic regression, |coefficients|"))
DCI_REGRESSORS.register("forest", DciRegressor(_fit_forest, "RandomForestClassifier, impurity importances"))


def dci(codes: Any, factors: Any, codes_test: Any = None, factors_test: Any = None, seed: int = 0,
        n_jobs: int | None = None, test_fraction: float = DEFAULT_TEST_FRACTION,
        regressor: str = "gbt") -> MetricResult:
    """Disentanglement, completeness and informativeness (Eastwood & Williams 2018); with the
    default ``regressor="gbt"`` gradient-boosted-tree importances, as disentanglement_lib.

    Args:
        codes: (N, D) floats; factors: (N, K) integer factor indices.
        codes_test, factors_test: held-out codes and factors (M, D), (M, K); when None, a
            seeded ``test_fraction`` of the codes is held out.
        seed: the split and the trees' random state; same seed, same numbers.
        n_jobs: threads for the K independent fits (None: one per CPU, at most K); each may use
            :func:`threads_per_job` OpenMP threads, so the fits do not oversubscribe the cores.
        regressor: a name in :data:`DCI_REGRESSORS` (gbt, hist_gbt, lasso, forest).

    Returns:
        scores ``disentanglement``, ``completeness`` (in [0, 1]), ``informativeness_train``,
        ``informativeness_test`` (mean accuracy over factors); matrices ``importance`` (D, K).
    """
    fit = DCI_REGRESSORS.get(regressor).fit
    x, y, x_test, y_test = check_split(codes, factors, codes_test, factors_test, seed, test_fraction)
    k = y.shape[1]
    if k < 2:
        raise UserError("DCI disentanglement measures how a latent spreads over the factors and needs at least "
                        "2 factors (with 1 it is 1.0 for any codes); these have 1")
    jobs = _n_jobs(n_jobs, k)
    if jobs == 1:
        fits = [fit(x, y[:, i], x_test, y_test[:, i], seed) for i in range(k)]
    else:
        from joblib import Parallel, delayed

        threads = threads_per_job(jobs)
        fits = Parallel(n_jobs=jobs, prefer="threads")(delayed(_fit_limited)(fit, threads, x, y[:, i], x_test,
                                                                             y_test[:, i], seed) for i in range(k))
    importance = np.stack([f[0] for f in fits], axis=1)
    d, c = dci_from_importance(importance)
    return MetricResult(
        scores={"disentanglement": d, "completeness": c,
                "informativeness_train": float(np.mean([f[1] for f in fits])),
                "informativeness_test": float(np.mean([f[2] for f in fits]))},
        matrices={"importance": importance},
        details={"accuracy_test_per_factor": [f[2] for f in fits], "n_train": len(x), "n_test": len(x_test),
                 "regressor": regressor})


def _standardize(x: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale each latent by the training codes' mean and std (constant ones stay 0)."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x - mean) / std, (x_test - mean) / std


def _sap_column(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """Test accuracy of a 1-D linear SVM on each latent for one factor: (D,)."""
    from sklearn.svm import LinearSVC

    out = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        svm = LinearSVC(C=0.01, class_weight="balanced").fit(x[:, j : j + 1], y)
        out[j] = np.mean(svm.predict(x_test[:, j : j + 1]) == y_test)
    return out


def sap(codes: Any, factors: Any, codes_test: Any = None, factors_test: Any = None, seed: int = 0,
        standardize: bool = True, n_jobs: int | None = 1,
        test_fraction: float = DEFAULT_TEST_FRACTION) -> MetricResult:
    """Separated Attribute Predictability (Kumar et al. 2018) for discrete factors, as
    disentanglement_lib (``continuous_factors=False``).

    Args:
        codes: (N, D) floats, D >= 2; factors: (N, K) integer factor indices.
        codes_test, factors_test: held-out split; when None a seeded ``test_fraction`` is held out.
        standardize: z-score each latent (training mean and std) before fitting. The SVM's
            fixed C = 0.01 makes the raw score depend on a latent's scale (a latent shrunk
            100-fold is regularised to chance); standardising removes that, so rescaling
            latents changes nothing. ``False`` reproduces disentanglement_lib exactly.
        n_jobs: processes over factors (1: in this process; the fits are fast).

    Returns:
        scores ``sap``; matrices ``sap_accuracy`` (D, K) test accuracies.
    """
    x, y, x_test, y_test = check_split(codes, factors, codes_test, factors_test, seed, test_fraction)
    if x.shape[1] < 2:
        raise UserError("SAP compares the two most predictive latents and needs at least 2; the codes have 1")
    if standardize:
        x, x_test = _standardize(x, x_test)
    k = y.shape[1]
    jobs = _n_jobs(n_jobs, k)
    if jobs == 1:
        columns = [_sap_column(x, y[:, i], x_test, y_test[:, i]) for i in range(k)]
    else:
        from joblib import Parallel, delayed

        columns = Parallel(n_jobs=jobs)(delayed(_sap_column)(x, y[:, i], x_test, y_test[:, i]) for i in range(k))
    matrix = np.stack(columns, axis=1)
    top = np.sort(matrix, axis=0)
    per_factor = top[-1] - top[-2]
    return MetricResult(scores={"sap": float(per_factor.mean())}, matrices={"sap_accuracy": matrix},
                        details={"sap_per_factor": per_factor.tolist()})
