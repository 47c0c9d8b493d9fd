"""Latent traversals: vary one code dimension from a base code, keep the others, decode.

The range of a dimension is where the codes live: for a VAE the prior's central quantiles
(N(0, 1): +/- ``sigma``), for a plain autoencoder the same quantiles of that dimension's
codes over the data (it has no prior). Dimensions are shown most informative first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from autoenc.core.errors import UserError
from autoenc.measure.codes import DEFAULT_BATCH_SIZE, LatentStats, check_dims, code_size
from autoenc.models.autoencoder_module import AutoencoderModule
from autoenc.models.encoding import batched

DEFAULT_SIGMA = 3.0


def check_steps(steps: int, what: str = "steps") -> int:
    if not isinstance(steps, int) or steps < 2:
        raise UserError(f"{what} must be an integer >= 2 (both ends of the range), got {steps!r}")
    return steps


def tail_probability(sigma: float) -> float:
    """P(Z < -sigma) for Z ~ N(0, 1): the lower quantile level matching +/- sigma."""
    if not sigma > 0:
        raise UserError(f"traversal range must be > 0 standard deviations, got {sigma}")
    return 0.5 * math.erfc(sigma / math.sqrt(2.0))


def traversal_values(stats: LatentStats, dims: list[int], steps: int,
                     sigma: float = DEFAULT_SIGMA) -> tuple[torch.Tensor, str]:
    """(K, steps) evenly spaced values for each of ``dims``, and a description of the range.

    VAE: from -sigma to +sigma (the prior's quantiles at P(Z < -sigma) and 1 - that).
    AE: from the empirical quantile of the dimension's codes at the same levels to its mirror,
    so the values never leave the range of the codes seen.
    """
    check_steps(steps)
    p = tail_probability(sigma)
    t = torch.linspace(0.0, 1.0, steps)
    if stats.variational:
        lo = torch.full((len(dims),), -sigma)
        hi = torch.full((len(dims),), sigma)
        what = f"prior N(0, 1) quantiles, +/-{sigma:g} sigma"
    else:
        codes = stats.codes[:, dims].double()
        levels = torch.tensor([p, 1.0 - p], dtype=torch.float64)
        lo, hi = torch.quantile(codes, levels, dim=0).float()
        what = f"empirical quantiles {100 * p:.3g}%..{100 * (1 - p):.4g}% of the codes"
    return lo[:, None] + (hi - lo)[:, None] * t[None, :], what


def decode_codes(model: AutoencoderModule, codes: torch.Tensor, batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
    """(N, D) flat codes (D = C*h*w for a spatial code) -> (N, C, H, W) decoded means in [0, 1],
    in batches, on the CPU."""
    size = code_size(model)
    if codes.ndim != 2 or codes.shape[1] != size:
        raise UserError(f"codes must be (N, {size}), got {tuple(codes.shape)}")
    codes = codes.reshape(len(codes), *model.latent_shape)
    out = [images.cpu() for _, (images,) in batched(model.decode, codes, batch_size, model.device)]
    return torch.cat(out) if out else torch.empty((0, *model.input_shape))


def sweep_codes(bases: torch.Tensor, dims: list[int], values: torch.Tensor) -> torch.Tensor:
    """(B, D) base codes -> (B, K, S, D) copies with dimension ``dims[k]`` set to ``values[k, s]``."""
    k, s = values.shape
    if k != len(dims):
        raise UserError(f"values has {k} rows for {len(dims)} dims; give one row per dimension")
    codes = bases.detach().cpu().float()[:, None, None, :].repeat(1, k, s, 1)
    # Advanced indices on axes 1 and 3 put their axis first: the target is (K, B, S).
    codes[:, torch.arange(k), :, torch.tensor(dims)] = values.float()[:, None, :]
    return codes


def traverse_code(model: AutoencoderModule, base: torch.Tensor, dims: list[int], values: torch.Tensor,
                  batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
    """Decode ``base`` (D,) with dimension ``dims[k]`` set to ``values[k, s]``.

    Returns:
        (K, S, C, H, W) images in [0, 1], K = len(dims), S = values.shape[1].
    """
    dims = check_dims(dims, code_size(model))
    codes = sweep_codes(base.reshape(1, -1), dims, values)[0]
    k, s = values.shape
    return decode_codes(model, codes.reshape(k * s, -1), batch_size).reshape(k, s, *model.input_shape)


@dataclass
class Traversal:
    """Traversals of several base codes.

    Attributes:
        images: (B, K, S, C, H, W) in [0, 1]: bases x dimensions x steps.
        values: (K, S) the value each dimension takes at each step.
        dims: (K,) the dimensions shown, most informative first.
        informativeness: (K,) KL (nats, VAE) or code variance (AE) of those dimensions.
        measure: "KL" or "var"; unit: "nats" or "".
        variational: the model has a N(0, I) prior: every dimension shares the prior's range.
        bases: (B, D) the base codes.
        base_names: B names ("mean code", "image 12").
        range_text: how the range of each dimension was chosen.
    """

    images: torch.Tensor
    values: torch.Tensor
    dims: torch.Tensor
    informativeness: torch.Tensor
    measure: str
    unit: str
    variational: bool
    bases: torch.Tensor
    base_names: list[str]
    range_text: str

    def row_labels(self) -> list[str]:
        """"z3  KL 2.41" for each row: the dimension and its informativeness."""
        return [f"z{d}  {self.measure} {v:.3g}" for d, v in zip(self.dims.tolist(), self.informativeness.tolist(),
                                                                  strict=True)]


def traverse(model: AutoencoderModule, stats: LatentStats, bases: torch.Tensor, base_names: list[str] | None = None,
             dims: list[int] | None = None, steps: int = 10, sigma: float = DEFAULT_SIGMA,
             top: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> Traversal:
    """Traverse each of ``dims`` (default: all) from each base code.

    Args:
        stats: codes and informativeness of the data (:func:`latent_stats`); sets the
            order of the dimensions and, for an AE, their ranges.
        bases: (B, D) base codes (an image's code, or ``stats.codes.mean(0)``).
        dims: dimensions (units of the flattened code) to show, ordered most informative first;
            None: all, or for a sparse (TopK) code the units active in any base.
        steps: values per dimension, >= 2.
        sigma: range in prior standard deviations (VAE) or the matching quantile levels (AE).
        top: keep only the ``top`` most informative of ``dims``.
    """
    check_steps(steps)
    size = code_size(model)
    if bases.ndim == 1:
        bases = bases[None]
    if bases.ndim != 2 or bases.shape[1] != size or len(bases) == 0:
        raise UserError(f"bases must be (B, {size}) codes, got {tuple(bases.shape)}")
    if stats.latent_dim != size:
        raise UserError(f"stats are for codes of size {stats.latent_dim}, the model's have {size}")
    chosen = check_dims(dims, size)
    if chosen is None and model.sparse_code:  # a TopK code: the units active in the bases
        chosen = torch.nonzero((bases != 0).any(0)).flatten().tolist() or None
    order = [d for d in stats.order.tolist() if chosen is None or d in chosen]
    if top is not None:
        if top < 1:
            raise UserError(f"top must be >= 1, got {top}")
        order = order[:top]
    values, range_text = traversal_values(stats, order, steps, sigma)
    codes = sweep_codes(bases, order, values)  # (B, K, S, D): one batched decode for all
    images = decode_codes(model, codes.reshape(-1, size), batch_size)
    images = images.reshape(*codes.shape[:3], *model.input_shape)
    names = base_names or [f"base {i}" for i in range(len(bases))]
    if len(names) != len(bases):
        raise UserError(f"{len(names)} base names for {len(bases)} bases")
    return Traversal(images, values, torch.tensor(order), stats.informativeness[order], stats.measure,
                     stats.unit, stats.variational, bases.detach().cpu(), list(names), range_text)


def channel_units(latent_shape: tuple[int, ...], channel: int, location: tuple[int, int] | None = None) -> list[int]:
    """Units of the flattened spatial code (C, h, w) that hold ``channel``: at every position, or
    only at ``location`` (row, column). A channel or location out of range is one line."""
    if len(latent_shape) != 3:
        raise UserError(f"channel traversal needs a spatial code (C, h, w); this model's code is "
                        f"{tuple(latent_shape)}: traverse its dims instead")
    c, h, w = latent_shape
    if not isinstance(channel, int) or not 0 <= channel < c:
        raise UserError(f"channel {channel!r} is out of range: the code has {c} channels, so use 0..{c - 1}")
    if location is None:
        return [channel * h * w + i for i in range(h * w)]
    row, col = location
    if not (0 <= row < h and 0 <= col < w):
        raise UserError(f"location {tuple(location)} is out of range: the code is {h} x {w}, so use "
                        f"rows 0..{h - 1} and columns 0..{w - 1}")
    return [channel * h * w + row * w + col]


def traverse_channel(model: AutoencoderModule, base: torch.Tensor, channel: int, values: torch.Tensor,
                     location: tuple[int, int] | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
    """Decode the flat spatial code ``base`` (D,) with ``channel`` set to each of ``values`` (S,)
    at every position (or only at ``location``): (S, C, H, W) images in [0, 1]."""
    units = channel_units(tuple(model.latent_shape), channel, location)
    codes = base.detach().cpu().float().reshape(1, -1).repeat(len(values), 1)
    codes[:, units] = values.float()[:, None]
    return decode_codes(model, codes, batch_size)
