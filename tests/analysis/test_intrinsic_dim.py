"""Intrinsic dimension estimators: known answers, invariances, duplicates, references, errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from autoenc.core.errors import UserError
from autoenc.measure.intrinsic_dim import (
    ESTIMATORS,
    MLE,
    PCA,
    DuplicatePointsWarning,
    Gride,
    IDResult,
    TwoNN,
    estimate_all,
    make_estimator,
)
from autoenc.measure.intrinsic_dim.gride import gride_mle
from autoenc.measure.intrinsic_dim.result import read_results, write_results


def plane(n: int = 5000, d: int = 5, ambient: int = 64, seed: int = 0) -> np.ndarray:
    """A d-dimensional linear subspace of R^ambient, Gaussian coordinates."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((ambient, d)))
    return rng.standard_normal((n, d)) @ basis.T


def sphere(n: int = 5000, d: int = 10, seed: int = 0) -> np.ndarray:
    """Uniform points on S^d in R^(d+1)."""
    z = np.random.default_rng(seed).standard_normal((n, d + 1))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def swiss_roll(n: int = 4000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    return np.stack([t * np.cos(t), 21 * rng.random(n), t * np.sin(t)], 1)


def values(results: list[IDResult]) -> dict[str, float]:
    return {r.estimator: r.value for r in results}


# ---------------------------------------------------------------- known answers


def test_plane_5d_in_r64_is_5():
    got = values(estimate_all(plane(), ["twonn", "mle", "pca"], repeats=0))
    for name in ("twonn", "mle", "pca"):
        assert got[name] == pytest.approx(5, abs=0.3), (name, got)


def test_10_sphere_is_about_10():
    got = values(estimate_all(sphere(), ["twonn", "mle", "gride"], repeats=0))
    for name, value in got.items():
        assert 8.5 <= value <= 11, (name, got)


def test_swiss_roll_is_2_and_pca_sees_3():
    got = values(estimate_all(swiss_roll(), ["twonn", "mle", "gride", "pca"], repeats=0))
    for name in ("twonn", "mle", "gride"):
        assert got[name] == pytest.approx(2, abs=0.3), (name, got)
    assert got["pca"] == 3  # the roll fills 3 linear directions: pca is a linear dimension


def test_pca_participation_ratio_and_linear_label():
    (res,) = estimate_all(plane(n=1000, d=3, ambient=10), ["pca"], repeats=0)
    assert res.linear and res.value == 3
    assert res.extra["participation_ratio"] == pytest.approx(3, abs=0.2)
    assert not estimate_all(plane(n=500), ["twonn"], repeats=0)[0].linear


def test_gride_n1_1_is_the_closed_form_pareto_mle():
    rng = np.random.default_rng(0)
    r1 = rng.random(3000) + 0.5
    dist = np.stack([r1, r1 * rng.pareto(4.0, 3000) + r1], 1)  # mu - 1 ~ Lomax: mu ~ Pareto(4)
    d, stderr = gride_mle(dist, 1, 2)
    log_mu = np.log(dist[:, 1] / dist[:, 0])
    assert d == pytest.approx(len(log_mu) / log_mu.sum(), rel=1e-10)
    assert d == pytest.approx(4.0, rel=0.06)
    assert stderr == pytest.approx(d / np.sqrt(len(log_mu)), rel=1e-8)  # Fisher info N / d^2


def test_gride_curve_over_ranks_with_stderr():
    (res,) = estimate_all(sphere(n=3000, d=4), [Gride(n1=2, max_rank=32)], repeats=0)
    assert res.curve is not None and res.curve.axis == "neighbour rank n1"
    assert res.curve.x == [1, 2, 4, 8, 16]
    assert res.value == res.curve.value[1]  # n1 = 2
    assert all(0 < e < 0.5 for e in res.curve.error)
    assert all(3.3 < v < 4.7 for v in res.curve.value)
    assert res.extra["stderr"] == res.curve.error[1] and res.extra["n2"] == 4


def test_mle_also_reports_k5_and_k10():
    (res,) = estimate_all(plane(n=2000), ["mle"], repeats=0)
    assert set(res.extra) == {"k=5", "k=10"} and res.parameters["k"] == 20
    for value in res.extra.values():
        assert value == pytest.approx(5, abs=0.4)


# ---------------------------------------------------------------- invariances


@pytest.mark.parametrize(
    "transform",
    [
        lambda x: 1e30 * x,
        lambda x: 1e-30 * x,
        lambda x: x + 1e3,
        lambda x: x @ np.linalg.qr(np.random.default_rng(5).standard_normal((x.shape[1],) * 2))[0],
    ],
    ids=["scale-up", "scale-down", "translate", "rotate"],
)
def test_invariant_to_scaling_translation_rotation(transform):
    x = swiss_roll(n=1500, seed=3)
    base = values(estimate_all(x, ["twonn", "mle", "gride", "pca"], repeats=0))
    moved = values(estimate_all(transform(x), ["twonn", "mle", "gride", "pca"], repeats=0))
    for name, value in base.items():
        assert moved[name] == pytest.approx(value, rel=1e-7), name


# ---------------------------------------------------------------- duplicates


def test_duplicates_dropped_with_a_counting_warning_and_same_result():
    x = plane(n=1500, seed=2)
    rng = np.random.default_rng(0)
    doubled = np.concatenate([x, x[rng.choice(len(x), 40, replace=False)], x[:3]])
    doubled = doubled[rng.permutation(len(doubled))]
    with pytest.warns(DuplicatePointsWarning, match="dropped 43 duplicate points of 1543"):
        dup = estimate_all(doubled, ["twonn", "mle", "gride", "pca"], repeats=0)
    clean = estimate_all(x, ["twonn", "mle", "gride", "pca"], repeats=0)
    assert values(dup) == pytest.approx(values(clean), rel=1e-9)
    assert all(r.duplicates == 43 and r.n == 1500 for r in dup)


def test_no_warning_without_duplicates():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate_all(plane(n=300), ["twonn"], repeats=0)


# ---------------------------------------------------------------- reference: scikit-dimension


@pytest.fixture(scope="module")
def curved():
    """A curved 3-D manifold in R^12 (N = 2000): products of arcs, rotated."""
    rng = np.random.default_rng(7)
    t = rng.random((2000, 3)) * 2.5
    arcs = np.concatenate([np.cos(t), np.sin(t)], 1)
    rotation, _ = np.linalg.qr(rng.standard_normal((12, 6)))
    return arcs @ rotation.T


def test_twonn_matches_skdim(curved):
    skdim = pytest.importorskip("skdim")
    for fraction in (0.1, 0.3):
        ours = estimate_all(curved, [TwoNN(discard_fraction=fraction)], repeats=0)[0].value
        ref = skdim.id.TwoNN(discard_fraction=fraction).fit(curved).dimension_
        assert ours == pytest.approx(ref, rel=0.01)
        assert ours == pytest.approx(ref, rel=1e-9)  # same definition: equal to rounding


def test_mle_matches_skdim(curved):
    skdim = pytest.importorskip("skdim")
    for k in (5, 20):
        ours = estimate_all(curved, [MLE(k=k)], repeats=0)[0].value
        ref = skdim.id.MLE().fit(curved, n_neighbors=k, comb="mle").dimension_
        assert ours == pytest.approx(ref, rel=0.01)
        assert ours == pytest.approx(ref, rel=1e-9)


def test_gride_matches_skdim_within_its_n_minus_1_convention(curved):
    skdim = pytest.importorskip("skdim")
    for n1 in (1, 4):
        ours = estimate_all(curved, [Gride(n1=n1, max_rank=2 * n1)], repeats=0)[0].value
        ref = skdim.id.GRIDE(n1=n1).fit(curved).dimension_
        # skdim/DADApy use (N - 1) log d in the likelihood: a relative 1 / N difference.
        assert ours == pytest.approx(ref, rel=0.01)


# ---------------------------------------------------------------- uncertainty and results


def test_spread_and_size_curve_from_subsamples():
    x = plane(n=1200, seed=4)
    res = estimate_all(x, ["twonn", "mle", "pca"], repeats=4, fraction=0.5, levels=3, seed=1)
    for r in res:
        assert r.spread is not None and r.spread >= 0
        assert r.curve is not None and r.curve.axis == "subsample size"
        assert r.curve.x == [1200, 600, 300, 150]
        assert r.curve.error[0] is None and all(e >= 0 for e in r.curve.error[1:])
        assert r.parameters | {"repeats": 4, "fraction": 0.5} == r.parameters
    twonn, mle, _ = res
    assert 0 < twonn.spread < 0.6 and 0 < mle.spread < 0.3
    again = estimate_all(x, ["twonn", "mle", "pca"], repeats=4, fraction=0.5, levels=3, seed=1)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in res]  # seeded
    other = estimate_all(x, ["twonn"], repeats=4, fraction=0.5, levels=3, seed=2)[0]
    assert other.spread != twonn.spread and other.value == twonn.value


def test_no_repeats_gives_no_spread():
    (res,) = estimate_all(plane(n=300), ["twonn"], repeats=0)
    assert res.spread is None and res.curve is None


def test_result_json_round_trip(tmp_path):
    res = estimate_all(plane(n=600), ["twonn", "mle", "gride", "pca"], repeats=2, levels=2)
    path = write_results(res, tmp_path / "id.json", input="x.npy", shape=(600, 64))
    data = json.loads(path.read_text())
    assert data["input"] == "x.npy" and data["shape"] == [600, 64]
    back = read_results(path)
    assert back == res
    assert [IDResult.from_dict(r.to_dict()) for r in res] == res


def test_to_dict_turns_non_finite_into_null():
    r = IDResult("mle", float("inf"), None, 10, extra={"k=5": float("nan")})
    text = json.dumps(r.to_dict(), allow_nan=False)
    assert json.loads(text)["value"] is None


@pytest.mark.parametrize("name", ESTIMATORS.list())
def test_every_registered_estimator_runs_with_error_bars(name):
    (res,) = estimate_all(sphere(n=800, d=3, seed=9), [name], repeats=2, levels=1)
    assert res.estimator == name and np.isfinite(res.value) and res.spread is not None
    assert 1.5 < res.value < 5.5


def test_accepts_images_and_tensors():
    import torch

    x = plane(n=400, d=3, ambient=48).reshape(400, 3, 4, 4)
    from_images = estimate_all(x, ["twonn"], repeats=0)[0].value
    from_tensor = estimate_all(torch.from_numpy(x).float(), ["twonn"], repeats=0)[0].value
    assert from_images == pytest.approx(3, abs=0.4)
    assert from_tensor == pytest.approx(from_images, rel=1e-4)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("x", "estimators", "match"),
    [
        (plane(n=15), ["mle"], r"15 unique points are too few: mle .* needs 20 neighbours"),
        (np.arange(10.0), ["twonn"], r"must be an \(N, D\) array .* got shape \(10,\)"),
        (np.empty((0, 4)), ["twonn"], r"empty"),
        (np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]]), ["twonn"], r"1 NaN or inf values in 1"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [0.0, 1.0]]), ["twonn"], r"NaN or inf"),
        (np.ones((50, 3)), ["twonn"], r"all 50 points are identical"),
        (np.array([["a", "b"]]), ["twonn"], r"real-valued"),
        (plane(n=50), ["tow_nn"], r"unknown ID estimator 'tow_nn'.*Known: gride, mle, pca, twonn"),
        (plane(n=50), [], r"no estimators"),
    ],
    ids=["too-few", "1-d", "empty", "nan", "inf", "identical", "strings", "unknown", "none"],
)
def test_bad_input_is_one_line_user_error(x, estimators, match):
    with pytest.raises(UserError, match=match) as info:
        estimate_all(x, estimators, repeats=0)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: MLE(k=1), r"mle k must be an integer >= 2, got 1"),
        (lambda: TwoNN(discard_fraction=1.0), r"discard_fraction must be in \[0, 1\), got 1.0"),
        (lambda: TwoNN(discard_fraction=-0.1), r"discard_fraction must be in \[0, 1\)"),
        (lambda: Gride(n1=0), r"gride n1 must be an integer >= 1"),
        (lambda: PCA(variance=1.5), r"pca variance must be in \(0, 1\]"),
        (lambda: make_estimator("mle", kk=3), r"mle has no parameter kk; valid: k, also_k"),
    ],
)
def test_bad_parameters(build, match):
    with pytest.raises(UserError, match=match):
        build()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"repeats": 1}, r"repeats must be 0 .* or an integer >= 2, got 1"),
        ({"fraction": 1.0}, r"fraction .* must be in \(0, 1\), got 1.0"),
        ({"levels": 0}, r"levels .* must be >= 1"),
        ({"fraction": 0.05}, r"subsample with fraction=0.05 keeps 2 of 40 points, too few"),
    ],
)
def test_bad_resampling(kwargs, match):
    with pytest.raises(UserError, match=match):
        estimate_all(plane(n=40), ["twonn"], **{"repeats": 3, **kwargs})
