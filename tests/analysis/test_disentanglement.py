"""Disentanglement metrics on arrays: known answers, invariances, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from autoenc.core.errors import UserError
from autoenc.measure.disentanglement import (
    METRICS,
    dci,
    dci_from_importance,
    discretize,
    evaluate,
    mig,
    mutual_info_matrix,
    sap,
)

SIZES = (3, 4, 5)
#: Smaller factors for DCI: one boosted-tree model per factor value, 100 stages each.
DCI_SIZES = (2, 3, 4)


def factors(n: int = 1500, sizes: tuple[int, ...] = SIZES, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, n) for s in sizes], axis=1)


def ideal_codes(f: np.ndarray, dead: int = 2, seed: int = 1) -> np.ndarray:
    """The standardised factors plus ``dead`` near-constant units."""
    rng = np.random.default_rng(seed)
    z = (f - f.mean(0)) / f.std(0)
    return np.concatenate([z, 1e-3 * rng.normal(size=(len(f), dead))], axis=1)


def rotated(z: np.ndarray, seed: int = 2) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(z.shape[1], z.shape[1])))
    return z @ q


def noise(z: np.ndarray, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=z.shape)


# -- known answers ------------------------------------------------------------------------------
def test_ideal_codes_give_dci_one_and_beat_rotation_which_beats_noise() -> None:
    f = factors()
    z = ideal_codes(f)
    small = factors(300, DCI_SIZES)
    d = dci(ideal_codes(small), small, n_jobs=1)
    assert d["disentanglement"] > 0.95 and d["completeness"] > 0.95
    assert d["informativeness_test"] > 0.99
    for metric, name in ((mig, "mig"), (sap, "sap")):
        ideal, rot, rand = (metric(c, f)[name] for c in (z, rotated(z), noise(z)))
        assert ideal > rot + 0.2, (name, ideal, rot)
        assert rot > rand + 0.02, (name, rot, rand)
        assert abs(rand) < 0.05
    assert mig(z, f)["mig"] > 0.95  # every factor has <= 20 values: binning loses nothing
    rot = dci(rotated(ideal_codes(small)), small, n_jobs=1)
    assert rot["disentanglement"] < d["disentanglement"] - 0.1


def test_mutual_information_of_a_copy_is_the_entropy() -> None:
    f = factors()
    m = mutual_info_matrix(ideal_codes(f, dead=0), f)
    p = [np.bincount(f[:, k]) / len(f) for k in range(f.shape[1])]
    entropy = np.array([-(q * np.log(q)).sum() for q in p])
    np.testing.assert_allclose(np.diag(m), entropy, rtol=1e-12)
    assert m[~np.eye(len(m), dtype=bool)].max() < 0.02


def test_matches_sklearn_mutual_info_and_numpy_histogram_bins() -> None:
    from sklearn.metrics import mutual_info_score

    f = factors(800)
    z = noise(np.zeros((800, 4))) + f[:, :1]
    bins = discretize(z)
    reference = np.stack([np.digitize(z[:, j], np.histogram(z[:, j], 20)[1][:-1]) - 1 for j in range(4)], 1)
    np.testing.assert_array_equal(bins, reference)
    m = mutual_info_matrix(z, f)
    expected = [[mutual_info_score(f[:, k], bins[:, j]) for k in range(3)] for j in range(4)]
    np.testing.assert_allclose(m, expected, atol=1e-12)


def test_a_factor_no_latent_carries_lowers_completeness_and_informativeness() -> None:
    f = factors(300, DCI_SIZES)
    full = dci(ideal_codes(f), f, n_jobs=1)
    missing = dci(ideal_codes(f)[:, [0, 1, 3, 4]], f, n_jobs=1)  # factor 2 is in no latent
    assert missing["completeness"] < full["completeness"] - 0.2
    assert missing["informativeness_test"] < full["informativeness_test"] - 0.2


def test_dci_of_importance_matrices() -> None:
    assert dci_from_importance(np.eye(3)) == pytest.approx((1.0, 1.0), abs=1e-8)
    d, c = dci_from_importance(np.ones((3, 3)))
    assert d == pytest.approx(0.0, abs=1e-8) and c == pytest.approx(0.0, abs=1e-8)
    # one latent carries two factors: not disentangled, but each factor is complete
    d, c = dci_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert d == pytest.approx(0.0, abs=1e-8) and c == pytest.approx(1.0, abs=1e-8)


# -- invariances and determinism ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mig", "sap"])
def test_permuting_and_rescaling_latents_changes_nothing(name: str) -> None:
    f = factors()
    z = rotated(ideal_codes(f), seed=5)[:, :4] + 0.3 * noise(np.zeros((len(f), 4)))
    metric = METRICS.get(name).fn
    base = metric(z, f)[name]
    changed = z[:, [2, 0, 3, 1]] * np.array([100.0, -0.01, 3.0, 1e-3]) + 7.0
    assert metric(changed, f)[name] == pytest.approx(base, abs=1e-9)


def test_dci_is_invariant_to_permuted_rescaled_latents() -> None:
    f = factors(300, DCI_SIZES)
    z = ideal_codes(f) + 0.2 * noise(np.zeros((300, 5)))
    base = dci(z, f, n_jobs=1)
    perm = [3, 1, 4, 0, 2]
    changed = dci(z[:, perm] * 50.0 - 2.0, f, n_jobs=1)
    for key in base.scores:
        assert changed[key] == pytest.approx(base[key], abs=0.02)
    np.testing.assert_allclose(changed.matrices["importance"], base.matrices["importance"][perm], atol=0.05)


def test_same_seed_same_numbers_and_the_split_follows_the_seed() -> None:
    f = factors(600)
    z = ideal_codes(f) + 0.5 * noise(np.zeros((600, 5)))
    assert sap(z, f, seed=4).scores == sap(z, f, seed=4).scores
    assert sap(z, f, seed=4).scores != sap(z, f, seed=5).scores
    # an explicit test split is used as given
    explicit = sap(z[:400], f[:400], z[400:], f[400:])
    assert explicit.scores == sap(z[:400], f[:400], z[400:], f[400:]).scores


@pytest.mark.slow
def test_dci_same_numbers_in_one_process_and_in_two() -> None:
    f = factors(300, DCI_SIZES)
    z = ideal_codes(f) + 0.5 * noise(np.zeros((300, 5)))
    one = dci(z, f, seed=4, n_jobs=1)
    assert one.scores == dci(z, f, seed=4, n_jobs=2).scores
    assert one.scores != dci(z, f, seed=5, n_jobs=1).scores


def _openmp_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"]


def test_threads_per_job_shares_the_cores() -> None:
    from threadpoolctl import threadpool_limits

    from autoenc.measure.disentanglement.predictors import threads_per_job

    assert [threads_per_job(j, 8) for j in (1, 2, 3, 5, 8, 9)] == [8, 4, 2, 1, 1, 1]
    assert threads_per_job(2, 2) == 1 and threads_per_job(0, 4) == 4
    with threadpool_limits(limits=1, user_api="openmp"):  # an enclosing limit is kept, not raised
        assert threads_per_job(1) == 1


def test_parallel_dci_fits_run_under_their_thread_limit(monkeypatch) -> None:
    """Each of the joblib threads fitting a factor runs with threads_per_job's OpenMP limit (here
    set to 3, which neither OMP_NUM_THREADS=1 nor a 2-core default would give), and the caller's
    own limit is unchanged afterwards."""
    from autoenc.measure.disentanglement import predictors

    hist_gbt = predictors.DCI_REGRESSORS.get("hist_gbt")
    seen: list[list[int]] = []

    def probe(*args):  # type: ignore[no-untyped-def]
        seen.append(_openmp_threads())
        return hist_gbt.fit(*args)

    monkeypatch.setattr(predictors.DCI_REGRESSORS, "get", lambda name: predictors.DciRegressor(probe, "probe"))
    monkeypatch.setattr(predictors, "threads_per_job", lambda jobs: 3)
    before = _openmp_threads()
    f = factors(200, DCI_SIZES)
    found = dci(ideal_codes(f), f, n_jobs=2, regressor="hist_gbt")
    assert len(seen) == len(DCI_SIZES) and all(s and set(s) == {3} for s in seen)
    assert _openmp_threads() == before and found["informativeness_test"] > 0.9


def test_non_contiguous_factor_indices_are_classes() -> None:
    f = factors()
    z = ideal_codes(f)
    spread = f * np.array([10, 3, 7]) + 5
    assert mig(z, spread)["mig"] == pytest.approx(mig(z, f)["mig"])
    assert sap(z, spread.astype(float))["sap"] == pytest.approx(sap(z, f)["sap"])


def test_evaluate_runs_registered_code_metrics() -> None:
    f = factors(600)
    z = ideal_codes(f)
    results = evaluate(["mig", "sap"], z, f, seed=1)
    assert list(results) == ["mig", "sap"] and results["mig"]["mig"] > 0.9
    assert set(METRICS) == {"mig", "dci", "sap", "factor_vae", "beta_vae"}
    with pytest.raises(UserError, match="unknown disentanglement metric 'migg'.*Did you mean 'mig'"):
        evaluate(["migg"], z, f)
    with pytest.raises(UserError, match="needs an encode function"):
        evaluate(["factor_vae"], z, f)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mig", "dci", "sap"])
def test_bad_input_is_one_line(name: str) -> None:
    fn = METRICS.get(name).fn
    f = factors(600)
    z = ideal_codes(f)
    cases = [
        ((z[:500], f), "500 codes but 600 rows"),
        ((z, f + 0.5), "integer factor indices; column 0 holds"),
        ((z, np.concatenate([f, np.ones((600, 1), int)], 1)), "factor 3 of factors is constant"),
        ((np.where(np.arange(600)[:, None] == 7, np.nan, z), f), r"NaN or infinite values \(first at row 7"),
        ((z, f.astype(str)), "integer factor indices, got dtype"),
        ((z[:, 0], f), r"\(N, D\) array"),
    ]
    for args, message in cases:
        with pytest.raises(UserError, match=message) as err:
            fn(*args)
        assert "\n" not in str(err.value)


def test_too_few_codes_for_the_bins() -> None:
    f = factors(60)
    with pytest.raises(UserError, match="60 codes are too few: at least 100 .* 20 bins"):
        mig(ideal_codes(f), f)
    assert mig(ideal_codes(f), f, num_bins=10)["mig"] > 0.5
    with pytest.raises(UserError, match="num_bins must be an integer >= 2"):
        mig(ideal_codes(f), f, num_bins=1)


def test_one_latent_is_refused_by_gap_metrics() -> None:
    f = factors(300)
    with pytest.raises(UserError, match="MIG .* at least 2"):
        mig(ideal_codes(f)[:, :1], f)
    with pytest.raises(UserError, match="SAP .* at least 2"):
        sap(ideal_codes(f)[:, :1], f)


def test_half_a_test_split_is_refused() -> None:
    f = factors(300)
    with pytest.raises(UserError, match="both codes_test and factors_test"):
        sap(ideal_codes(f), f, ideal_codes(f), None)
