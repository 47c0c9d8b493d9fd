"""Codes of a dataset and how much each latent dimension is used.

Everything here is a pure function of a model and image tensors: images go through the
encoder in batches under ``torch.inference_mode()``; results are tensors on the CPU.

Informativeness of a dimension is its average KL to the prior (nats) for a VAE and the
variance of its codes over the data for a plain / denoising autoencoder. Active units
follow Burda et al. 2015 ("Importance Weighted Autoencoders", Sec. 5.2): dimension u is
active when Cov_x(E_{q(z|x)}[z_u]) > 0.01.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from autoenc.core.defaults import DEFAULT_BATCH_SIZE
from autoenc.core.errors import UserError
from autoenc.data.transforms import to_float
from autoenc.models.autoencoder_module import AutoencoderModule
from autoenc.models.encoding import batched

ACTIVE_THRESHOLD = 0.01


def check_images(model: AutoencoderModule, images: torch.Tensor, what: str = "images") -> None:
    """Refuse anything but an (N, C, H, W) batch of the model's input_shape (naming both)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise UserError(f"{what} must be an (N, C, H, W) tensor, got {shape}")
    if tuple(images.shape[1:]) != tuple(model.input_shape):
        raise UserError(
            f"{what} are {tuple(images.shape[1:])} but the model takes {tuple(model.input_shape)}; "
            "use data with the model's image_size/channels"
        )
    if len(images) == 0:
        raise UserError(f"{what} are empty; choose a split or subset with images in it")


def batches(images: torch.Tensor, batch_size: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Consecutive float (b, C, H, W) batches in [0, 1] on ``device`` (uint8 or float input)."""
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(images), batch_size):
        yield to_float(images[start : start + batch_size].to(device))


def map_batches(model: AutoencoderModule, images: torch.Tensor,
                fn: Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]],
                batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[torch.Tensor, ...]:
    """Apply ``fn`` to float batches of ``images`` under inference mode (the one batched loop,
    :func:`autoenc.models.encoding.batched`) and concatenate each of its outputs along dim 0,
    on the CPU."""
    check_images(model, images)
    outputs = [out for _, out in batched(fn, images, batch_size, model.device)]
    return tuple(torch.cat(parts).cpu() for parts in zip(*outputs, strict=True))


def encode_all(model: AutoencoderModule, images: torch.Tensor, batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
    """images: (N, C, H, W) uint8 or float in [0, 1] -> ``model.encode``'s codes flattened,
    (N, D) float32, D = :func:`code_size` (the posterior mean for a VAE). Every measure works on
    these flat codes; unit d of a spatial (C, h, w) code is channel d // (h w) at row
    (d % (h w)) // w, column d % w (:func:`unit_names`)."""
    return map_batches(model, images, model.encode, batch_size)[0].flatten(1)


def code_size(model: AutoencoderModule) -> int:
    """D, the number of values in one code: ``latent_dim`` for a flat code, C*h*w for a spatial one."""
    return math.prod(model.latent_shape)


def unit_names(latent_shape: tuple[int, ...]) -> list[str]:
    """Names of the D units of a flattened code (C-order): ``z3`` for a flat code, ``c1@(0,2)``
    (channel 1 at row 0, column 2) for a spatial (C, h, w) one."""
    if len(latent_shape) == 1:
        return [f"z{d}" for d in range(latent_shape[0])]
    c, h, w = latent_shape
    return [f"c{ch}@({i},{j})" for ch in range(c) for i in range(h) for j in range(w)]


def firing_rates(codes: torch.Tensor) -> torch.Tensor:
    """(N, D) codes -> (D,) fraction of images in which each unit is non-zero (how often each
    unit of a sparse TopK code fires; 1 for a dense code)."""
    return (codes != 0).double().mean(0).float()


def per_channel(values: torch.Tensor, latent_shape: tuple[int, ...]) -> torch.Tensor:
    """(D,) per-unit values of a flattened spatial code -> (C, h, w) maps (e.g. the KL per
    element of a spatial VAE, nats); ``.sum((1, 2))`` gives the KL per channel."""
    if math.prod(latent_shape) != values.numel():
        raise UserError(f"{values.numel()} values do not fill a code of shape {tuple(latent_shape)}")
    return values.reshape(latent_shape)


def posterior_all(model: AutoencoderModule, images: torch.Tensor,
                  batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """A VAE's posterior over ``images``: (mu, logvar), each (N, D) (spatial ones flattened)."""
    if not model.has_prior:
        raise UserError(f"{type(model).__name__} has no posterior; only a VAE does")
    mu, logvar = map_batches(model, images, model.posterior, batch_size)
    return mu.flatten(1), logvar.flatten(1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """(N, D) posterior parameters -> (D,) KL(q(z_d|x) || N(0, 1)) averaged over x, nats
    (Kingma & Welling 2014, App. B)."""
    return (0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)).mean(0)


def code_variance(codes: torch.Tensor) -> torch.Tensor:
    """(N, D) codes -> (D,) variance of each dimension over the data (Cov_x diagonal)."""
    if len(codes) < 2:
        raise UserError(f"need at least 2 images to measure code variance, got {len(codes)}")
    return codes.double().var(0).float()


def unit_activity(model: AutoencoderModule, images: torch.Tensor,
                  batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
    """(D,) Cov_x(E[z_d | x]): the variance over ``images`` of each dimension of the
    deterministic code (posterior mean for a VAE)."""
    return code_variance(encode_all(model, images, batch_size))


def active_units(model: AutoencoderModule, x: torch.Tensor, threshold: float = ACTIVE_THRESHOLD,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Number of latent dimensions whose Cov_x(E[z_d|x]) exceeds ``threshold`` (Burda et al.
    2015, "Importance Weighted Autoencoders", Sec. 5.2; 0.01 there).

    Args:
        x: (N, C, H, W) images, uint8 or float in [0, 1], N >= 2.
    """
    if threshold < 0:
        raise UserError(f"active-unit threshold must be >= 0, got {threshold}")
    return int((unit_activity(model, x, batch_size) > threshold).sum())


@dataclass
class LatentStats:
    """Codes of a set of images and the informativeness of each latent dimension.

    Attributes:
        codes: (N, D) deterministic codes (posterior means for a VAE).
        logvar: (N, D) posterior log-variances for a VAE, else None.
        informativeness: (D,) KL per dimension in nats (VAE) or code variance (AE).
        measure: "KL" or "var", the label of ``informativeness`` in figures.
        unit: "nats" for KL, "" for variance.
        variational: whether the model has a N(0, I) prior (``model.has_prior``).
    """

    codes: torch.Tensor
    logvar: torch.Tensor | None
    informativeness: torch.Tensor
    measure: str
    unit: str
    variational: bool

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[1])

    @property
    def order(self) -> torch.Tensor:
        """(D,) dimension indices, most informative first (ties: lower index first)."""
        return torch.sort(self.informativeness, descending=True, stable=True).indices

    def active_units(self, threshold: float = ACTIVE_THRESHOLD) -> int:
        """Dimensions whose Cov_x(E[z_d|x]) exceeds ``threshold``."""
        return int((code_variance(self.codes) > threshold).sum())


def latent_stats(model: AutoencoderModule, images: torch.Tensor,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> LatentStats:
    """Encode ``images`` (N, C, H, W) and measure each dimension: KL per dimension (nats)
    for a VAE, variance of the codes for an AE. N >= 2."""
    if model.has_prior:
        mu, logvar = posterior_all(model, images, batch_size)
        return LatentStats(mu, logvar, kl_per_dim(mu, logvar), "KL", "nats", True)
    codes = encode_all(model, images, batch_size)
    return LatentStats(codes, None, code_variance(codes), "var", "", False)


def check_dims(dims: list[int] | None, latent_dim: int) -> list[int] | None:
    """Validate chosen latent dimensions (0 <= d < latent_dim, no repeats)."""
    if dims is None:
        return None
    if not dims:
        raise UserError("dims is empty; give at least one latent dimension or none for all")
    bad = [d for d in dims if not 0 <= d < latent_dim]
    if bad:
        raise UserError(f"latent dimension {bad[0]} is out of range: the model has latent_dim "
                        f"{latent_dim}, so use 0..{latent_dim - 1}")
    if len(set(dims)) != len(dims):
        raise UserError(f"dims repeat a dimension: {dims}; list each once")
    return list(dims)
