"""AutoencoderFeatures: the scikit-learn estimator contract, pipelines, grid search, wrapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from autoenc.core.errors import UserError
from autoenc.features import AutoencoderFeatures


@pytest.fixture(scope="module")
def digits_xy():
    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype(np.float32)[:600], y[:600]


def test_passes_check_estimator():
    check_estimator(AutoencoderFeatures())  # raises on the first failing check


def test_training_mode_is_seeded_and_learns(digits_xy):
    x, _ = digits_xy
    a = AutoencoderFeatures(latent_dim=4, epochs=15, likelihood="bernoulli", image_shape=(1, 8, 8), lr=3e-3)
    codes = a.fit_transform(x)
    assert codes.shape == (len(x), 4) and codes.dtype == np.float32
    assert a.n_features_in_ == 64 and a.image_shape_ == (1, 8, 8)
    assert a.loss_curve_[-1] < 0.8 * a.loss_curve_[0]
    b = AutoencoderFeatures(latent_dim=4, epochs=15, likelihood="bernoulli", image_shape=(1, 8, 8), lr=3e-3)
    np.testing.assert_array_equal(b.fit(x).transform(x), codes)
    assert list(a.get_feature_names_out()) == [f"autoencoderfeatures{i}" for i in range(4)]


def test_conv_net_needs_and_uses_the_image_shape(digits_xy):
    x, _ = digits_xy
    codes = AutoencoderFeatures(net="conv", net_options={"widths": [4, 8]}, latent_dim=3, epochs=1,
                                image_shape=(1, 8, 8)).fit_transform(x[:64])
    assert codes.shape == (64, 3)
    with pytest.raises(UserError, match=r"image_shape \(1, 4, 4\) has 16 values but X has 64 features"):
        AutoencoderFeatures(image_shape=(1, 4, 4)).fit(x)


def test_pipeline_and_grid_search_over_latent_dim(digits_xy):
    x, y = digits_xy
    pipe = make_pipeline(AutoencoderFeatures(epochs=30, batch_size=32, likelihood="bernoulli", lr=3e-3),
                         StandardScaler(), LogisticRegression(max_iter=300))
    search = GridSearchCV(pipe, {"autoencoderfeatures__latent_dim": [2, 16]}, cv=2)
    search.fit(x, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"autoencoderfeatures__latent_dim": 16}
    assert scores[1] > 0.75 and scores[1] > scores[0] + 0.1, scores


def test_wrapping_a_given_encoder_fits_nothing(trained_model, digits_xy):
    x, _ = digits_xy
    est = AutoencoderFeatures(encoder=trained_model)
    with pytest.raises(NotFittedError):
        est.transform(x)
    codes = est.fit(x).transform(x)
    assert est.model_ is None and est.loss_curve_ == [] and est.image_shape_ == (1, 8, 8)
    with torch.inference_mode():
        expected = trained_model.encode(torch.from_numpy(x).view(-1, 1, 8, 8)).numpy()
    np.testing.assert_allclose(codes, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="X has 63 features, but AutoencoderFeatures is expecting 64"):
        est.transform(x[:, :63])


def test_wrapped_torchvision_encoder_needs_an_image_shape(digits_xy):
    x, _ = digits_xy
    codes = AutoencoderFeatures(encoder="torchvision:resnet18", image_shape=(1, 8, 8)).fit_transform(x[:10])
    assert codes.shape == (10, 512)


def test_bad_options_are_refused_in_fit_not_init(digits_xy):
    est = AutoencoderFeatures(epochs=0, model="transformer")  # __init__ only stores
    with pytest.raises(UserError, match="epochs must be an integer >= 1, got 0"):
        est.fit(digits_xy[0])
    with pytest.raises(UserError, match="unknown model 'transformer'"):
        est.set_params(epochs=1).fit(digits_xy[0])
