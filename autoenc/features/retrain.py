"""Retrain the last layer on cached bottleneck features, and keep the classifier.

TensorFlow's image_retraining in autoenc's terms: the frozen encoder ran once per image into a
feature cache (:func:`~autoenc.features.extract_features`); :func:`retrain` trains a new head
(softmax regression, or one hidden layer) on the cache's training items many epochs over, in
torch, and returns (and optionally writes) a :class:`~autoenc.features.classifier.Classifier`
that classifies new images.

The cache's items are split once (seeded, stratified) into three disjoint parts: *train* (the
head is fitted on them), *val* (early stopping: the epoch with the lowest validation
cross-entropy is kept) and *test* (the reported accuracy, never seen while choosing anything).
With :class:`~autoenc.features.distort.Distortions`, each epoch's training features are those
of freshly distorted training images, encoded again (the cache cannot hold them); val and
test still come from the cache (undistorted images).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from autoenc.core.constraints import check_params
from autoenc.core.errors import UserError
from autoenc.features.cache import FeatureCache, open_cache
from autoenc.features.classifier import Classifier, Head, encoder_reference, load_reference
from autoenc.features.distort import Distortions
from autoenc.features.probes import wilson_interval
from autoenc.features.retrain_options import RETRAIN_PARAMS

PARAMS = RETRAIN_PARAMS


@dataclass
class RetrainResult:
    """What retraining measured, and the classifier it made.

    Attributes:
        accuracy: fraction of the test items classified correctly, in [0, 1].
        ci_low, ci_high: its 95% Wilson interval over the n_test items.
        chance: the test items' majority-class rate (always answering the most frequent class).
        per_class: class name -> {"accuracy", "ci_low", "ci_high", "support"} on the test items.
        n_train, n_val, n_test: disjoint items fitted on / used for early stopping / scored.
        epochs: epochs run; best_epoch: the one kept (lowest validation cross-entropy, 1-based).
        seconds: wall time of the training (encoding included when distorting).
        distortions: the distortions used (all off: features read from the cache).
        classifier: the classifier (encoder reference + head).
        out: the directory written, or None.
    """

    accuracy: float
    ci_low: float
    ci_high: float
    chance: float
    per_class: dict[str, dict[str, float]]
    n_train: int
    n_val: int
    n_test: int
    epochs: int
    best_epoch: int
    seconds: float
    distortions: dict[str, Any]
    classifier: Classifier = field(repr=False)
    out: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything but the classifier, as plain JSON data."""
        d = {k: v for k, v in asdict(self).items() if k not in ("classifier", "out")}
        return {**d, "out": None if self.out is None else str(self.out)}

    def summary(self) -> str:
        """A few lines: accuracy with its interval against chance, then one line per class."""
        head = self.classifier.head
        kind = "softmax regression" if head.hidden is None else f"one hidden layer of {head.hidden}"
        lines = [f"retrained head ({kind}, {head.dim} features -> {head.n_classes} classes): test accuracy "
                 f"{self.accuracy:.4f} (95% CI {self.ci_low:.4f}-{self.ci_high:.4f}, Wilson), chance "
                 f"{self.chance:.4f} (majority class); {self.n_train} train / {self.n_val} val (early stopping) / "
                 f"{self.n_test} test items; best epoch {self.best_epoch} of {self.epochs}, {self.seconds:.2f} s",
                 f"{'class':>12}  accuracy  95% CI          support"]
        for name, row in self.per_class.items():
            lines.append(f"{name:>12}  {row['accuracy']:.3f}     {row['ci_low']:.3f}-{row['ci_high']:.3f}     "
                         f"{int(row['support'])}")
        return "\n".join(lines)


def class_labels(cache: FeatureCache) -> tuple[np.ndarray, list[str]]:
    """(N,) int64 labels and the class names (index = label) of a cache of class labels.

    Raises:
        UserError: no targets, factor values instead of labels, negative labels, or one class.
    """
    if cache.targets is None:
        raise UserError(f"cache {str(cache.path)!r} has no targets (its data is unlabelled); retrain needs class "
                        "labels: build the cache from a labelled source")
    y = np.asarray(cache.targets)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise UserError(f"cache {str(cache.path)!r} holds {'factor values' if y.ndim == 2 else y.dtype} targets, "
                        "not class labels; retrain needs one integer label per item")
    if y.min() < 0:
        raise UserError(f"cache {str(cache.path)!r} has negative labels ({int(y.min())}); labels must be >= 0")
    present = np.unique(y)
    if len(present) < 2:
        raise UserError(f"cache {str(cache.path)!r} holds one class only ({int(present[0])}); a classifier needs "
                        "at least 2")
    names = cache.target_names
    k = int(y.max()) + 1
    if not names or len(names) < k:
        names = [str(i) for i in range(k)]
    return y.astype(np.int64), list(names)


def split_items(y: np.ndarray, test_fraction: float, val_fraction: float,
                seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint (train, val, test) item indices, stratified by class when every class has
    enough items, seeded."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))

    def cut(items: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
        _, counts = np.unique(y[items], return_counts=True)
        stratify = y[items] if counts.min() >= 2 else None
        try:
            a, b = train_test_split(items, test_size=share, random_state=seed, stratify=stratify)
        except ValueError as err:
            raise UserError(f"cannot split {len(items)} items ({err}); use more data") from None
        return np.sort(a), np.sort(b)

    rest, test = cut(idx, test_fraction)
    train, val = cut(rest, val_fraction / (1 - test_fraction))
    return train, val, test


def _per_class(y: np.ndarray, predicted: np.ndarray, names: list[str]) -> dict[str, dict[str, float]]:
    rows = {}
    for c in np.unique(y):
        mask = y == c
        correct, n = int((predicted[mask] == c).sum()), int(mask.sum())
        low, high = wilson_interval(correct, n)
        rows[names[int(c)]] = {"accuracy": correct / n, "ci_low": low, "ci_high": high, "support": n}
    return rows


def _check_out(out: str | os.PathLike | None, overwrite: bool) -> Path | None:
    if out is None:
        return None
    from autoenc.core.atomic import check_dir_creatable, refuse_existing

    path = refuse_existing(out, overwrite)
    check_dir_creatable(path.parent)
    return path


def cache_images(cache: FeatureCache) -> torch.Tensor:
    """The (N, C, H, W) uint8 images a cache was built from, in cache order, loaded again from the
    data its meta.json records and checked against the recorded hash of the items.

    Raises:
        UserError: the cache was built from in-memory arrays (pass ``images``), or the data
            has changed since.
    """
    from autoenc.data.module import ImageDataModule
    from autoenc.features.extract import items_sha256

    data = cache.meta.get("data") or {}
    hp = data.get("datamodule")
    if not hp or not isinstance(data.get("source"), dict):
        raise UserError(f"cache {str(cache.path)!r} was built from in-memory arrays; pass their images "
                        "(images=...) to retrain with distortions")
    dm = ImageDataModule(source=data["source"], num_workers=0, **{k: v for k, v in hp.items() if v is not None})
    arrays = dm.arrays(data["split"])
    if items_sha256(arrays.images.cpu(), None if arrays.targets is None else arrays.targets.cpu()) != \
            data.get("items_sha256"):
        raise UserError(f"the images of cache {str(cache.path)!r} have changed since it was built; rebuild the "
                        "cache (autoenc features ... --overwrite)")
    return arrays.images.cpu()


def retrain(cache: FeatureCache | str | os.PathLike, *, out: str | os.PathLike | None = None,
            hidden: int | None = None, test_fraction: float = 0.2, val_fraction: float = 0.1,
            epochs: int = 200, patience: int = 10, learning_rate: float = 0.03, weight_decay: float = 1e-4,
            batch_size: int = 1024, seed: int = 0, distortions: Distortions | None = None,
            images: torch.Tensor | None = None, overwrite: bool = False,
            device: str | torch.device = "cpu") -> RetrainResult:
    """Train a new last layer on a feature cache; return (and with ``out``, write) the classifier.

    Args:
        cache: a feature cache (or its path) with (N, D) features and (N,) class labels.
        out: write the classifier directory here (atomically; see
            :mod:`autoenc.features.classifier`).
        hidden: None: softmax regression; H: one hidden ReLU layer of width H first.
        test_fraction: share of items held out for the reported accuracy, in (0, 1).
        val_fraction: share held out for early stopping, in (0, 1); test + val < 1.
        epochs: most passes over the training items; patience: stop after this many epochs
            without a lower validation cross-entropy (the best epoch's head is kept).
        learning_rate, weight_decay: Adam's (decoupled L2 of AdamW), on standardised features.
        batch_size: items per step.
        seed: the split, the initialisation, the batches and the distortions.
        distortions: when any is on, each epoch encodes distorted training images again
            instead of reading their cached features (see :mod:`autoenc.features.distort`).
        images: with distortions: the cache's (N, C, H, W) uint8 images, when the cache was
            built from in-memory arrays (else they are loaded from the data it records).
        overwrite: replace an existing ``out``.
        device: where the head (and, with distortions, the encoder) runs.

    Returns:
        test accuracy with its 95% Wilson interval, chance, per class; the classifier.

    Raises:
        UserError: a bad option (before any work), a cache without class labels or with one
            class, too few items to split, an ``out`` that exists (without overwrite).
    """
    check_params(PARAMS, locals())
    if test_fraction + val_fraction >= 1:
        raise UserError(f"test_fraction + val_fraction must be < 1, got {test_fraction} + {val_fraction}")
    distortions = distortions or Distortions()
    out_path = _check_out(out, overwrite)
    cache = cache if isinstance(cache, FeatureCache) else open_cache(cache)
    y, names = class_labels(cache)
    reference = encoder_reference(cache.meta) if out_path is not None or distortions.active else None
    train, val, test = split_items(y, test_fraction, val_fraction, seed)
    if len(np.unique(y[train])) < 2:
        raise UserError(f"the {len(train)} training items hold one class only; use more data")
    device = torch.device(device)
    x = torch.from_numpy(np.array(cache.features, dtype=np.float32))  # a copy: the cache is read-only
    targets = torch.from_numpy(y)
    head = Head(cache.dim, len(names), hidden)
    head.mean.copy_(x[train].mean(0))
    head.std.copy_(x[train].std(0).clamp_min(1e-6))
    epoch_features = _epoch_features(x, train, distortions, reference, images, cache, batch_size, device, seed)
    head = _init(head, seed).to(device)
    started = time.perf_counter()
    epochs_run, best_epoch = _fit(head, epoch_features, targets[train].to(device), x[val].to(device),
                                  targets[val].to(device), epochs, patience, learning_rate, weight_decay,
                                  batch_size, seed)
    seconds = time.perf_counter() - started
    head = head.cpu().eval()
    with torch.inference_mode():
        predicted = head(x[test]).argmax(1).numpy()
    correct = int((predicted == y[test]).sum())
    low, high = wilson_interval(correct, len(test))
    _, counts = np.unique(y[test], return_counts=True)
    result = RetrainResult(accuracy=correct / len(test), ci_low=low, ci_high=high,
                           chance=float(counts.max() / len(test)), per_class=_per_class(y[test], predicted, names),
                           n_train=len(train), n_val=len(val), n_test=len(test), epochs=epochs_run,
                           best_epoch=best_epoch, seconds=seconds, distortions=distortions.to_dict(),
                           classifier=None)  # type: ignore[arg-type]
    image_shape = tuple((cache.meta.get("data") or {}).get("image_shape") or ())
    report = {k: v for k, v in result.to_dict().items() if k != "out"}
    result.classifier = Classifier(head=head, class_names=names, encoder_ref=reference or {},
                                   image_shape=image_shape, report={**report, "cache": str(cache.path)})  # type: ignore[arg-type]
    if out_path is not None:
        result.out = result.classifier.save(out_path, overwrite=overwrite)
    return result


def _init(head: Head, seed: int) -> Head:
    """Re-initialise the head's linear layers from ``seed`` (torch's default scheme)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in head.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
    return head


def _epoch_features(x: torch.Tensor, train: np.ndarray, distortions: Distortions, reference: dict[str, Any] | None,
                    images: torch.Tensor | None, cache: FeatureCache, batch_size: int, device: torch.device,
                    seed: int) -> Any:
    """``epoch -> (n_train, D)`` training features: the cached ones, or those of freshly
    distorted training images."""
    cached = x[train].to(device)
    if not distortions.active:
        return lambda epoch: cached
    from autoenc.data.transforms import to_float

    encoder = load_reference(reference).to(device)  # type: ignore[arg-type]
    pictures = (cache_images(cache) if images is None else torch.as_tensor(images))[torch.from_numpy(train)]
    gen = torch.Generator().manual_seed(seed)

    def encode(epoch: int) -> torch.Tensor:
        chunks = []
        with torch.no_grad():  # not inference_mode: the head's autograd takes these tensors
            for start in range(0, len(pictures), 256):
                batch = to_float(pictures[start : start + 256].to(device))
                chunks.append(encoder(distortions(batch, gen)))
        return torch.cat(chunks)

    return encode


def _fit(head: Head, epoch_features: Any, y_train: torch.Tensor, x_val: torch.Tensor, y_val: torch.Tensor,
         epochs: int, patience: int, learning_rate: float, weight_decay: float, batch_size: int,
         seed: int) -> tuple[int, int]:
    """Minibatch AdamW on cross-entropy; keeps the state of the epoch with the lowest validation
    loss. Returns (epochs run, best epoch)."""
    optimiser = torch.optim.AdamW(head.parameters(), lr=learning_rate, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    best, best_state, best_epoch, epoch = float("inf"), None, 0, 0
    n = len(y_train)
    for epoch in range(1, epochs + 1):
        features = epoch_features(epoch)
        head.train()
        order = torch.randperm(n, generator=gen).to(y_train.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            optimiser.zero_grad(set_to_none=True)
            loss_fn(head(features[idx]), y_train[idx]).backward()
            optimiser.step()
        head.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(head(x_val), y_val))
        if val_loss < best - 1e-6:
            best, best_epoch = val_loss, epoch
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    if best_state is not None:
        head.load_state_dict(best_state)
    return epoch, best_epoch
