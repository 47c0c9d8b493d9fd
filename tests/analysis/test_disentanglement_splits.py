"""Disjoint training and test images, the beta-VAE score's pairs, one-factor refusals,
repeats with a spread, MIG binning and the DCI regressors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data.ground_truth import LabelledGroundTruth, sample_uniform, split_pool, whole_pool
from autoenc.measure.disentanglement import dci, discretize
from autoenc.measure.disentanglement.interventional import (
    _fixed_factor_points,
    beta_vae_score,
    factor_vae_score,
)
from autoenc.measure.disentanglement.predictors import DCI_REGRESSORS
from autoenc.workflows.disentangle_run import check_metrics, disentangle, write_disentanglement


class Grid:
    """Factors whose image is the factor vector (n, 1, 1, K) uint8; ``blind`` factors are not drawn."""

    def __init__(self, sizes: tuple[int, ...], blind: tuple[int, ...] = ()) -> None:
        self.factor_sizes = sizes
        self.factor_names = tuple(f"f{k}" for k in range(len(sizes)))
        self.blind = blind

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_uniform(self.factor_sizes, n, rng)

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> torch.Tensor:
        shown = np.array(factors, dtype=np.uint8)
        shown[:, list(self.blind)] = 0
        return torch.from_numpy(shown).reshape(len(factors), 1, 1, -1)


def identity(images: torch.Tensor) -> np.ndarray:
    return images.reshape(len(images), -1).double().numpy()


def test_split_is_disjoint_and_keeps_identical_images_together() -> None:
    grid = Grid((6, 5, 4), blind=(2,))  # factor 2 is invisible: 4 items per distinct image
    train, test, facts = split_pool(grid, 1 / 3, seed=0)
    assert facts["grouped"] and facts["distinct_images"] == 30
    assert facts["train_images"] + facts["test_images"] == 120 and not np.intersect1d(train.items, test.items).size
    keys = {tuple(f[:2]) for f in train.factors}
    assert keys.isdisjoint({tuple(f[:2]) for f in test.factors})  # no test image equals a training image
    assert facts["test_images"] == 4 * 10
    again, _, _ = split_pool(grid, 1 / 3, seed=0)
    assert np.array_equal(again.items, train.items)
    with pytest.raises(UserError, match="test_fraction must be a number in"):
        split_pool(grid, 1.0, seed=0)


def test_disentangle_draws_codes_from_disjoint_images_and_says_so(tmp_path) -> None:
    grid = Grid((20, 24))
    report = disentangle(identity, grid, n=900, metrics=["mig", "sap"], repeats=3)
    split = report.split
    assert split["shared_images"] == 0 and split["train_codes"] == 600 and split["test_codes"] == 300
    assert split["train_images"] == 320 and split["test_images"] == 160
    assert 0 < split["distinct_test_images_drawn"] <= 160 and 0 < split["distinct_train_images_drawn"] <= 320
    # repeats: three evaluation draws, their mean and std
    assert len(report.spread["sap"]["values"]) == 3 and report.scores["sap"] == pytest.approx(
        np.mean(report.spread["sap"]["values"]))
    assert report.spread["sap"]["std"] >= 0 and "±" in report.score_text("sap")
    write_disentanglement(report, tmp_path)
    data = json.loads((tmp_path / "disentanglement.json").read_text())
    assert data["split"]["shared_images"] == 0 and data["settings"]["repeats"] == 3
    assert data["spread"]["mig"]["values"] and data["settings"]["seeds"] == [0, 1, 2]


def test_beta_vae_pairs_share_the_fixed_value_drawn_per_pair() -> None:
    pool = whole_pool(Grid((10, 12, 8)))
    fixed, (first, second) = next(_fixed_factor_points(pool, 4, 64, np.random.default_rng(0), True, 4096))
    a, b = pool.factors[first].reshape(4, 64, 3), pool.factors[second].reshape(4, 64, 3)
    for point, k in enumerate(fixed):
        assert np.array_equal(a[point, :, k], b[point, :, k])  # each pair shares factor k
        assert len(np.unique(a[point, :, k])) > 1  # ... with a value drawn for each pair
    fixed, (batch,) = next(_fixed_factor_points(pool, 4, 64, np.random.default_rng(0), False, 4096))
    c = pool.factors[batch].reshape(4, 64, 3)
    for point, k in enumerate(fixed):
        assert len(np.unique(c[point, :, k])) == 1  # FactorVAE: one value for the whole batch


class FixedGrid(Grid):
    deterministic_render = True  # the image is the factor vector: nothing drawn


@pytest.mark.parametrize("score", [factor_vae_score, beta_vae_score])
def test_encoding_each_image_once_gives_the_same_scores(score) -> None:
    calls = []

    def counted(images: torch.Tensor) -> np.ndarray:
        calls.append(len(images))
        return identity(images) + 0.1 * np.sin(identity(images).sum(axis=1, keepdims=True))

    kwargs = {"seed": 3, "batch_size": 16, "num_train": 200, "num_eval": 100, "chunk_images": 500}
    drawn = score(counted, Grid((6, 5, 4)), **kwargs)
    fresh = sum(calls)
    calls.clear()
    cached = score(counted, FixedGrid((6, 5, 4)), **kwargs)
    assert cached.scores == drawn.scores and cached.details == drawn.details
    assert sum(calls) <= 120 < fresh  # each of the 120 images encoded at most once


def test_one_factor_refuses_metrics_that_need_two() -> None:
    labels = np.repeat(np.arange(5), 40)
    images = torch.from_numpy(np.stack([labels, np.arange(200) % 7], 1).astype(np.uint8)).reshape(200, 1, 1, 2)
    gt = LabelledGroundTruth(images, labels)
    assert check_metrics(None, gt.factor_names) == ["mig", "sap"]
    for name in ("dci", "factor_vae", "beta_vae"):
        with pytest.raises(UserError, match=rf"metric '{name}' needs at least 2 ground-truth factors and this one "
                                            r"has 1 \(label\); metrics that work with 1: mig, sap") as err:
            disentangle(identity, gt, n=300, metrics=[name])
        assert "\n" not in str(err.value)
    report = disentangle(identity, gt, n=300)
    assert set(report.scores) == {"mig", "sap"}
    with pytest.raises(UserError, match="needs at least 2 factors"):
        dci(np.random.default_rng(0).normal(size=(100, 3)), labels[:100, None])


def test_multi_attribute_labels_are_factors() -> None:
    rng = np.random.default_rng(0)
    attrs = rng.integers(0, 2, (400, 3))
    index = np.arange(400)  # two more pixels make every image distinct
    pixels = np.concatenate([attrs, np.stack([index % 256, index // 256], 1)], 1).astype(np.uint8)
    gt = LabelledGroundTruth(torch.from_numpy(pixels).reshape(400, 1, 1, 5), attrs, names=["Smiling", "Male", "Young"])
    assert gt.factor_names == ("Smiling", "Male", "Young") and gt.factor_sizes == (2, 2, 2)

    def attributes(images: torch.Tensor) -> np.ndarray:
        return identity(images)[:, :3]

    report = disentangle(attributes, gt, n=600, metrics=["mig", "dci", "beta_vae"],
                         options={"dci": {"regressor": "forest", "n_jobs": 1},
                                  "beta_vae": {"num_train": 60, "num_eval": 30, "batch_size": 16}})
    assert report.scores["mig"] > 0.9 and report.scores["disentanglement"] > 0.8
    assert report.scores["beta_vae_eval"] > 0.9
    shown = gt.render(np.array([[1, 0, 1], [0, 0, 0]]), rng)
    assert attributes(shown).tolist() == [[1, 0, 1], [0, 0, 0]]


def test_quantile_bins_hold_equal_counts() -> None:
    codes = np.random.default_rng(0).exponential(size=(1000, 2))
    counts = np.bincount(discretize(codes, 10, "quantile")[:, 0], minlength=10)
    assert counts.min() >= 95 and counts.max() <= 105
    wide = np.bincount(discretize(codes, 10)[:, 0], minlength=10)
    assert wide.max() > 400  # equal widths crowd a skewed latent into the first bins
    with pytest.raises(UserError, match="binning must be one of equal_width, quantile"):
        discretize(codes, 10, "log")  # type: ignore[arg-type]


@pytest.mark.parametrize("regressor", DCI_REGRESSORS.list())
def test_every_dci_regressor_scores_the_ideal_codes_high(regressor: str) -> None:
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 4, 600), rng.integers(0, 5, 600)], 1)
    codes = np.concatenate([factors + 0.05 * rng.normal(size=(600, 2)), rng.normal(size=(600, 1))], 1)
    ideal = dci(codes, factors, regressor=regressor, n_jobs=1)
    mixed = dci(codes @ np.array([[1, 1, 0], [1, -1, 0], [0, 0, 1]]), factors, regressor=regressor, n_jobs=1)
    assert ideal["disentanglement"] > 0.7 and ideal["informativeness_test"] > 0.9
    assert mixed["disentanglement"] < ideal["disentanglement"] - 0.2
    with pytest.raises(UserError, match="unknown DCI regressor 'svm'"):
        dci(codes, factors, regressor="svm")


def test_hist_gbt_with_fewer_shuffles_keeps_d_and_c(monkeypatch) -> None:
    from autoenc.measure.disentanglement import predictors

    rng = np.random.default_rng(1)
    factors = np.stack([rng.integers(0, 4, 800), rng.integers(0, 5, 800)], 1)
    codes = np.concatenate([factors @ np.array([[1.0, 0.3], [0.2, 1.0]]) + 0.3 * rng.normal(size=(800, 2)),
                            rng.normal(size=(800, 2))], 1)
    found = dci(codes, factors, regressor="hist_gbt", n_jobs=1)
    monkeypatch.setattr(predictors, "PERMUTATION_REPEATS", 5)
    five = dci(codes, factors, regressor="hist_gbt", n_jobs=1)
    assert predictors.PERMUTATION_REPEATS == 5 and found.details == five.details
    assert abs(found["disentanglement"] - five["disentanglement"]) < 0.02
    assert abs(found["completeness"] - five["completeness"]) < 0.02
    assert found["informativeness_test"] == five["informativeness_test"]
