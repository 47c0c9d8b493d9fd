"""FactorVAE and beta-VAE scores, sampling codes through a ground truth, and the run report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data.ground_truth import sample_uniform
from autoenc.measure.disentanglement import beta_vae_score, factor_vae_score, sample_codes
from autoenc.workflows.disentangle_run import (
    disentangle,
    disentanglement_pictures,
    write_disentanglement,
)


class ToyGroundTruth:
    """K factors whose "image" is the factor vector itself, as a (n, 1, 1, K) uint8 tensor."""

    def __init__(self, sizes: tuple[int, ...] = (4, 5, 6)) -> None:
        self.factor_sizes = sizes
        self.factor_names = tuple(f"f{k}" for k in range(len(sizes)))

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_uniform(self.factor_sizes, n, rng)

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> torch.Tensor:
        return torch.from_numpy(np.asarray(factors, dtype=np.uint8)).reshape(len(factors), 1, 1, -1)


def identity(images: torch.Tensor) -> np.ndarray:
    """Codes = the factors plus two dead units."""
    f = images.reshape(len(images), -1).double().numpy()
    return np.concatenate([f, np.zeros((len(f), 2))], axis=1)


def merged(images: torch.Tensor) -> np.ndarray:
    """One latent carries factors 0 and 1 together, the other factor 2."""
    f = images.reshape(len(images), -1).double().numpy()
    return np.stack([f[:, 0] + f[:, 1], f[:, 2]], axis=1)


def noise(images: torch.Tensor) -> np.ndarray:
    return np.random.default_rng(len(images)).normal(size=(len(images), 3))


SMALL = {"num_train": 150, "num_eval": 100, "batch_size": 32}


def test_factor_vae_score_known_answers() -> None:
    gt = ToyGroundTruth()
    ideal = factor_vae_score(identity, gt, num_variance_estimate=2000, **SMALL)
    assert ideal["factor_vae_eval"] == 1.0 and ideal["factor_vae_train"] == 1.0
    assert ideal.details["active_latents"] == 3  # the dead units are pruned
    # fixing factor 0 or 1 quiets the same latent: the vote gets one of them right (about 2/3)
    two_in_one = factor_vae_score(merged, gt, num_variance_estimate=2000, **SMALL)["factor_vae_eval"]
    rand = factor_vae_score(noise, gt, num_variance_estimate=2000, **SMALL)["factor_vae_eval"]
    assert 0.5 < two_in_one < 0.8 and rand < 0.6
    again = factor_vae_score(identity, gt, num_variance_estimate=2000, **SMALL)
    assert again.scores == ideal.scores and np.array_equal(again.matrices["factor_vae_votes"],
                                                          ideal.matrices["factor_vae_votes"])


def test_factor_vae_score_with_every_latent_collapsed_is_zero() -> None:
    result = factor_vae_score(lambda x: np.zeros((len(x), 3)), ToyGroundTruth(), num_variance_estimate=500, **SMALL)
    assert result.scores == {"factor_vae_train": 0.0, "factor_vae_eval": 0.0}


def test_beta_vae_score_known_answers() -> None:
    gt = ToyGroundTruth()
    ideal = beta_vae_score(identity, gt, **SMALL)
    rand = beta_vae_score(noise, gt, **SMALL)
    assert ideal["beta_vae_eval"] > 0.95
    assert rand["beta_vae_eval"] < 0.6
    assert beta_vae_score(identity, gt, **SMALL).scores == ideal.scores


def test_interventional_scores_refuse_one_factor_and_bad_options() -> None:
    with pytest.raises(UserError, match="needs at least 2; this ground truth has 1"):
        factor_vae_score(identity, ToyGroundTruth((30,)), **SMALL)
    with pytest.raises(UserError, match="batch_size must be >= 2"):
        factor_vae_score(identity, ToyGroundTruth(), num_train=5, num_eval=5, batch_size=1)
    with pytest.raises(UserError, match="num_train must be an integer >= 1"):
        beta_vae_score(identity, ToyGroundTruth(), num_train=0)
    with pytest.raises(UserError, match="NaN or infinite"):
        beta_vae_score(lambda x: np.full((len(x), 2), np.nan), ToyGroundTruth(), **SMALL)


def test_sample_codes_is_seeded_and_chunked() -> None:
    gt = ToyGroundTruth()
    codes, factors = sample_codes(identity, gt, 1000, seed=3, chunk_images=128)
    assert codes.shape == (1000, 5) and factors.shape == (1000, 3)
    np.testing.assert_array_equal(codes[:, :3], factors)
    again, _ = sample_codes(identity, gt, 1000, seed=3)
    np.testing.assert_array_equal(codes, again)
    with pytest.raises(UserError, match="encode returned 2 codes for 10 images"):
        sample_codes(lambda x: np.zeros((2, 3)), gt, 10)


def test_disentangle_collects_every_metric_and_writes_files(tmp_path) -> None:
    # 192 images, at most 20 values a factor so MIG's 20 bins resolve them; a factor value with
    # a single test image makes a batch of one image repeated (no variance to vote with)
    gt = ToyGroundTruth((12, 16))
    report = disentangle(identity, gt, n=600, seed=1, metrics=["mig", "dci", "sap", "factor_vae"],
                         latent_order=[1, 0, 2, 3],
                         options={"factor_vae": {**SMALL, "num_variance_estimate": 500}, "dci": {"n_jobs": 1}})
    # MIG below 1 by the plug-in bias of I(z_other; v) on 600 codes over 192 cells (~0.06 of H)
    assert report.scores["mig"] > 0.9 and report.scores["factor_vae_eval"] >= 0.9
    assert report.split["shared_images"] == 0 and report.split["test_images"] == 64
    assert report.mutual_info.shape == (4, 2) and report.matrices["importance"].shape == (4, 2)
    np.testing.assert_allclose(report.normalized_mutual_info[[0, 1], [0, 1]], 1.0)
    names = [p.name for p in disentanglement_pictures(report)]
    assert names == ["disentanglement_mi.png", "disentanglement_dci.png"]
    paths = write_disentanglement(report, tmp_path / "out", {"checkpoint": "x.ckpt"})
    import json

    data = json.loads((tmp_path / "out" / "disentanglement.json").read_text())
    assert data["checkpoint"] == "x.ckpt" and data["factors"]["names"] == ["f0", "f1"]
    assert data["latent_order"] == [1, 0, 2, 3] and len(paths) == 3
    with pytest.raises(UserError, match="latent_order must be a permutation"):
        disentangle(identity, gt, n=600, metrics=["mig"], latent_order=[0, 0, 1, 2])
    with pytest.raises(UserError, match="options given for 'sap'"):
        disentangle(identity, gt, n=600, metrics=["mig"], options={"sap": {}})
