"""Metrics that intervene on the factors: they render images for chosen factors and encode them.

Both follow disentanglement_lib (``factor_vae.py``, ``beta_vae.py``); each training / eval
point is one batch of ``batch_size`` images (or image pairs) in which one uniformly chosen
factor is held fixed.

* FactorVAE score (Kim & Mnih 2018, "Disentangling by Factorising", Sec. 4): one value of the
  fixed factor for the whole batch; divide each latent's variance within the batch by its
  variance over the data, take the argmin over active latents (global std >=
  ``prune_threshold``); a majority-vote classifier maps that latent to the fixed factor.
  Score: its accuracy on fresh points.
* beta-VAE score (Higgins et al. 2017, Sec. 3 and Appendix A.4): mean |z1 - z2| over
  ``batch_size`` PAIRS, each pair sharing the fixed factor's value, the value drawn afresh for
  every pair (``factors2[:, k] = factors1[:, k]`` in disentanglement_lib); a linear classifier
  (scikit-learn ``LogisticRegression`` defaults, as disentanglement_lib) predicts which factor
  it was. No other variant is computed under this name.

Training points are drawn from one side of a split of the ground truth's images and
evaluation points from the other (:func:`autoenc.data.ground_truth.split_pool`), so the score
is measured on images the classifier never saw. Images are rendered and encoded a chunk of
points at a time (``chunk_images``). ``encode`` maps uint8 images (n, C, H, W) to codes (n, D).

When a pool's images depend on the item alone (:attr:`ImagePool.renders_by_item`), each image is
encoded once per ``encode`` and its code reused by every later draw and metric on that pool (the
scores draw hundreds of thousands of images from a few thousand items); the draws and the codes
are the same as when every draw is encoded afresh, provided ``encode`` is a function of the image.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from autoenc.core.constraints import POSITIVE_INT, check_param
from autoenc.core.errors import UserError
from autoenc.core.memory import check_items_fit
from autoenc.data.ground_truth import GroundTruth, ImagePool, split_pool, whole_pool
from autoenc.measure.disentanglement.arrays import DEFAULT_TEST_FRACTION, MetricResult, check_codes

Encode = Callable[[torch.Tensor], Any]
#: Images rendered and encoded at once.
DEFAULT_CHUNK_IMAGES = 4096


def _positive(value: int, name: str) -> int:
    return int(check_param(name, [POSITIVE_INT], value))


def _check_factors(ground_truth: GroundTruth, metric: str) -> None:
    if len(ground_truth.factor_sizes) < 2:
        raise UserError(f"the {metric} score tells factors apart and needs at least 2; this ground truth has "
                        f"{len(ground_truth.factor_sizes)} ({', '.join(ground_truth.factor_names)})")


def _encode(encode: Encode, images: torch.Tensor) -> np.ndarray:
    codes = check_codes(encode(images), "encoded codes")
    if len(codes) != len(images):
        raise UserError(f"encode returned {len(codes)} codes for {len(images)} images")
    return codes


#: pool -> encode -> (codes (M, D) float64, which positions are encoded (M,) bool)
_CODE_CACHE: weakref.WeakKeyDictionary[ImagePool, dict[Encode, tuple[np.ndarray, np.ndarray]]] = \
    weakref.WeakKeyDictionary()


def pool_codes(encode: Encode, pool: ImagePool, positions: np.ndarray, rng: np.random.Generator,
               chunk_images: int = DEFAULT_CHUNK_IMAGES) -> np.ndarray:
    """Codes (n, D) float64 of the images at ``positions`` (n,) of ``pool``.

    A pool whose images depend on the item alone has each image rendered and encoded once per
    ``encode`` (only positions not seen before are encoded, a chunk at a time); other pools are
    rendered with ``rng`` and encoded a chunk at a time on every call.
    """
    if not pool.renders_by_item:
        return np.concatenate([_encode(encode, pool.render(positions[i : i + chunk_images], rng))
                               for i in range(0, len(positions), chunk_images)])
    per_encode = _CODE_CACHE.setdefault(pool, {})
    codes, done = per_encode.get(encode, (None, np.zeros(len(pool), dtype=bool)))
    new = np.unique(positions[~done[positions]])
    for i in range(0, len(new), chunk_images):
        part = _encode(encode, pool.render(new[i : i + chunk_images]))
        if codes is None:
            codes = np.full((len(pool), part.shape[1]), np.nan)
        if part.shape[1] != codes.shape[1]:
            raise UserError(f"encode returned codes of {part.shape[1]} dimensions after {codes.shape[1]}")
        codes[new[i : i + chunk_images]] = part
        done[new[i : i + chunk_images]] = True
    per_encode[encode] = (codes, done)
    return codes[positions]


def draw_codes(encode: Encode, pool: ImagePool, n: int, rng: np.random.Generator,
               chunk_images: int = DEFAULT_CHUNK_IMAGES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of ``n`` images drawn uniformly (with replacement) from ``pool``.

    Returns:
        codes (n, D) float64, factors (n, K) int64 and the item ids (n,) of the images.
    """
    n, chunk = _positive(n, "number of codes"), _positive(chunk_images, "chunk_images")
    positions = pool.sample(n, rng)
    return pool_codes(encode, pool, positions, rng, chunk), pool.factors[positions], pool.items[positions]


def sample_codes(encode: Encode, ground_truth: GroundTruth | ImagePool, n: int, seed: int = 0,
                 chunk_images: int = DEFAULT_CHUNK_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``n`` images drawn uniformly from all of the ground truth's images (or a pool).

    Returns:
        codes (n, D) float64 and factors (n, K) int64; same seed, same arrays.
    """
    n, chunk = _positive(n, "number of codes"), _positive(chunk_images, "chunk_images")
    # factors (n, K) int64 and at least one float64 code each, before any is drawn
    check_items_fit("the sampled factors and codes", n, 8 * (len(ground_truth.factor_sizes) + 1), "--n")
    codes, factors, _ = draw_codes(encode, whole_pool(ground_truth), n, np.random.default_rng(seed), chunk)
    return codes, factors


def _pools(ground_truth: GroundTruth | ImagePool, ground_truth_eval: GroundTruth | ImagePool | None, seed: int,
           test_fraction: float) -> tuple[ImagePool, ImagePool]:
    """Training and evaluation pools: the two given, or a seeded split of ``ground_truth``."""
    if ground_truth_eval is not None:
        return whole_pool(ground_truth), whole_pool(ground_truth_eval)
    if isinstance(ground_truth, ImagePool):
        raise UserError("give ground_truth_eval with a pool of images, or a ground truth to split")
    train, test, _ = split_pool(ground_truth, test_fraction, seed)
    return train, test


def _fixed_factor_points(pool: ImagePool, points: int, batch_size: int, rng: np.random.Generator,
                         pairs: bool, chunk_images: int) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """Chunks of points: (fixed factor (m,), pool positions). Each point fixes one factor drawn
    uniformly. The caller encodes each chunk before taking the next (``rng`` order as drawn).

    ``pairs=False`` (FactorVAE): one (m * batch_size,) array; the fixed factor has one value
    across each batch (that of a uniformly drawn image), the others vary.
    ``pairs=True`` (beta-VAE): two such arrays, first and second image of each pair; each pair
    shares the fixed factor's value, drawn afresh for every pair.
    """
    k = len(pool.factor_sizes)
    per_chunk = max(1, chunk_images // (batch_size * (2 if pairs else 1)))
    for start in range(0, points, per_chunk):
        m = min(per_chunk, points - start)
        fixed = rng.integers(0, k, m)
        factor = np.repeat(fixed, batch_size)
        if pairs:
            first = pool.sample(m * batch_size, rng)
            second = pool.sample_given(factor, pool.factors[first, factor], rng)
            yield fixed, [first, second]
        else:
            held = pool.factors[pool.sample(m, rng), fixed]
            batch = pool.sample_given(factor, np.repeat(held, batch_size), rng)
            yield fixed, [batch]


def _factor_vae_votes(encode: Encode, pool: ImagePool, points: int, batch_size: int,
                      rng: np.random.Generator, scale: np.ndarray, active: np.ndarray,
                      chunk_images: int) -> np.ndarray:
    """(K, D) votes: how often latent j had the smallest normalised variance when factor k was fixed."""
    votes = np.zeros((len(pool.factor_sizes), len(scale)), dtype=np.int64)
    active_index = np.flatnonzero(active)
    for fixed, (batch,) in _fixed_factor_points(pool, points, batch_size, rng, False, chunk_images):
        codes = pool_codes(encode, pool, batch, rng, chunk_images).reshape(len(fixed), batch_size, -1)
        local = codes.var(axis=1, ddof=1)[:, active] / scale[active] ** 2
        np.add.at(votes, (fixed, active_index[local.argmin(axis=1)]), 1)
    return votes


def factor_vae_score(encode: Encode, ground_truth: GroundTruth | ImagePool, seed: int = 0, batch_size: int = 64,
                     num_train: int = 10_000, num_eval: int = 5_000, num_variance_estimate: int = 10_000,
                     prune_threshold: float = 0.05, chunk_images: int = DEFAULT_CHUNK_IMAGES,
                     ground_truth_eval: GroundTruth | ImagePool | None = None,
                     test_fraction: float = DEFAULT_TEST_FRACTION) -> MetricResult:
    """FactorVAE score (Kim & Mnih 2018) with disentanglement_lib's settings as defaults.

    Args:
        encode: uint8 images (n, C, H, W) -> codes (n, D).
        ground_truth: a :class:`~autoenc.data.ground_truth.GroundTruth` (split into training
            and evaluation images with ``seed`` and ``test_fraction``), or the training
            :class:`~autoenc.data.ground_truth.ImagePool` when ``ground_truth_eval`` is given.
        batch_size: images per point (>= 2, a variance needs two).
        num_train, num_eval: points to fit and to evaluate the majority vote.
        num_variance_estimate: training images for the global variance of each latent.
        prune_threshold: latents whose global std is below it are ignored (collapsed).
        ground_truth_eval: the evaluation images (default: the test side of the split).

    Returns:
        scores ``factor_vae_train``, ``factor_vae_eval`` (accuracy, chance 1/K);
        matrices ``factor_vae_votes`` (D, K) training votes; details ``active_latents``.
    """
    _check_factors(ground_truth, "FactorVAE")
    if _positive(batch_size, "batch_size") < 2:
        raise UserError("batch_size must be >= 2: the FactorVAE score needs a variance within each batch")
    num_train, num_eval = _positive(num_train, "num_train"), _positive(num_eval, "num_eval")
    train_pool, eval_pool = _pools(ground_truth, ground_truth_eval, seed, test_fraction)
    rng = np.random.default_rng(seed)
    variance_codes, _, _ = draw_codes(encode, train_pool, _positive(num_variance_estimate, "num_variance_estimate"),
                                      rng, chunk_images)
    scale = variance_codes.std(axis=0, ddof=1)
    active = scale >= prune_threshold
    if not active.any():
        return MetricResult(scores={"factor_vae_train": 0.0, "factor_vae_eval": 0.0},
                            details={"active_latents": 0})
    train = _factor_vae_votes(encode, train_pool, num_train, batch_size, rng, scale, active, chunk_images)
    classifier = train.argmax(axis=0)  # latent -> factor
    columns = np.arange(train.shape[1])
    evaluation = _factor_vae_votes(encode, eval_pool, num_eval, batch_size, rng, scale, active, chunk_images)
    return MetricResult(
        scores={"factor_vae_train": float(train[classifier, columns].sum() / train.sum()),
                "factor_vae_eval": float(evaluation[classifier, columns].sum() / evaluation.sum())},
        matrices={"factor_vae_votes": train.T},
        details={"active_latents": int(active.sum()), "latent_std": scale.tolist(),
                 "train_images": len(train_pool), "eval_images": len(eval_pool)})


def _beta_vae_points(encode: Encode, pool: ImagePool, points: int, batch_size: int,
                     rng: np.random.Generator, chunk_images: int) -> tuple[np.ndarray, np.ndarray]:
    features, labels = [], []
    for fixed, (first, second) in _fixed_factor_points(pool, points, batch_size, rng, True, chunk_images):
        diff = np.abs(pool_codes(encode, pool, first, rng, chunk_images)
                      - pool_codes(encode, pool, second, rng, chunk_images)).reshape(len(fixed), batch_size, -1)
        features.append(diff.mean(axis=1))
        labels.append(fixed)
    return np.concatenate(features), np.concatenate(labels)


def beta_vae_score(encode: Encode, ground_truth: GroundTruth | ImagePool, seed: int = 0, batch_size: int = 64,
                   num_train: int = 10_000, num_eval: int = 5_000,
                   chunk_images: int = DEFAULT_CHUNK_IMAGES,
                   ground_truth_eval: GroundTruth | ImagePool | None = None,
                   test_fraction: float = DEFAULT_TEST_FRACTION) -> MetricResult:
    """beta-VAE score (Higgins et al. 2017) by its definition, disentanglement_lib's settings as defaults.

    Each point: one factor k drawn uniformly; ``batch_size`` pairs of images, the two images of
    a pair sharing factor k's value (drawn for each pair), every other factor drawn freely; the
    point's feature is mean |z1 - z2| over the pairs, its label k.

    Args:
        encode: uint8 images (n, C, H, W) -> codes (n, D).
        ground_truth: as in :func:`factor_vae_score`.
        batch_size: image pairs averaged into one point.
        num_train, num_eval: points to fit and to evaluate the linear classifier.
        ground_truth_eval: the evaluation images (default: the test side of the split).

    Returns:
        scores ``beta_vae_train``, ``beta_vae_eval`` (accuracy, chance 1/K).
    """
    from sklearn.linear_model import LogisticRegression

    _check_factors(ground_truth, "beta-VAE")
    batch_size = _positive(batch_size, "batch_size")
    num_train, num_eval = _positive(num_train, "num_train"), _positive(num_eval, "num_eval")
    train_pool, eval_pool = _pools(ground_truth, ground_truth_eval, seed, test_fraction)
    rng = np.random.default_rng(seed)
    x, y = _beta_vae_points(encode, train_pool, num_train, batch_size, rng, chunk_images)
    x_eval, y_eval = _beta_vae_points(encode, eval_pool, num_eval, batch_size, rng, chunk_images)
    if len(np.unique(y)) < 2:
        raise UserError(f"{num_train} training points fixed only one factor; raise num_train")
    model = LogisticRegression(random_state=seed).fit(x, y)
    return MetricResult(scores={"beta_vae_train": float(model.score(x, y)),
                                "beta_vae_eval": float(model.score(x_eval, y_eval))},
                        details={"train_images": len(train_pool), "eval_images": len(eval_pool)})
