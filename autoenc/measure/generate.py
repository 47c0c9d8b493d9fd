"""New images from the bottleneck: samples and interpolations between two images.

A VAE is sampled from its prior N(0, I). A plain autoencoder has no prior, so its samples
come from a Gaussian fitted to the codes of the data (mean and full covariance), which
the figure states. Interpolations are linear in the code, or spherical for a VAE (White
2016, "Sampling Generative Networks": under a Gaussian prior the straight line between
two typical codes passes through atypically short codes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from autoenc.core.errors import UserError
from autoenc.core.registry import Registry
from autoenc.data.transforms import to_float
from autoenc.measure.codes import DEFAULT_BATCH_SIZE, code_size, encode_all
from autoenc.measure.traversal import check_steps, decode_codes
from autoenc.models.autoencoder_module import AutoencoderModule


# -- samples --------------------------------------------------------------------------------
@dataclass
class Samples:
    """Decoded draws.

    Attributes:
        images: (N, C, H, W) in [0, 1].
        codes: (N, D) the codes decoded.
        source: where the codes came from, for the figure's title.
    """

    images: torch.Tensor
    codes: torch.Tensor
    source: str


def fit_gaussian(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) codes -> mean (D,) and a factor L (D, D) with L @ L.T = their covariance
    (from the eigendecomposition, so a singular covariance is fine). float64."""
    if codes.ndim != 2 or len(codes) < 2:
        raise UserError(f"need (N >= 2, D) codes to fit a Gaussian, got {tuple(codes.shape)}")
    x = codes.double()
    mean = x.mean(0)
    cov = torch.atleast_2d(torch.cov(x.T))
    eigval, eigvec = torch.linalg.eigh(cov)
    return mean, eigvec * eigval.clamp(min=0).sqrt()[None, :]


def sample(model: AutoencoderModule, n: int, seed: int = 0, codes: torch.Tensor | None = None,
           batch_size: int = DEFAULT_BATCH_SIZE) -> Samples:
    """Decode ``n`` codes drawn with ``seed``: from N(0, I) for a VAE, from a Gaussian fitted
    to ``codes`` (N, D) for an AE (required there). The same seed gives the same pixels."""
    if not isinstance(n, int) or n < 1:
        raise UserError(f"number of samples must be >= 1, got {n!r}")
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn((n, code_size(model)), generator=g, dtype=torch.float64)
    if model.has_prior:
        z, source = eps.float(), "prior N(0, I)"
    else:
        if codes is None:
            raise UserError(f"a {type(model).__name__} has no prior; pass the codes of some images to fit a Gaussian to")
        mean, factor = fit_gaussian(codes)
        z = (mean + eps @ factor.T).float()
        source = f"a Gaussian fitted to the codes of {len(codes)} images (an AE has no prior)"
    return Samples(decode_codes(model, z, batch_size), z, source)


# -- interpolation --------------------------------------------------------------------------
Path = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
INTERPOLATIONS: Registry[Path] = Registry("interpolation")


@INTERPOLATIONS.register("linear")
def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(P, D), (P, D), (S,) -> (P, S, D): (1 - t) a + t b."""
    t = t.to(a.dtype)[None, :, None]
    return (1 - t) * a[:, None, :] + t * b[:, None, :]


@INTERPOLATIONS.register("slerp")
def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(P, D), (P, D), (S,) -> (P, S, D) spherical interpolation (Shoemake 1985):
    sin((1 - t) w) / sin(w) a + sin(t w) / sin(w) b with w the angle between a and b.
    Falls back to linear where a and b are (anti)parallel or zero."""
    a64, b64 = a.double(), b.double()
    cos = torch.nn.functional.cosine_similarity(a64, b64, dim=1, eps=1e-12).clamp(-1, 1)
    w = torch.arccos(cos)[:, None, None]  # (P, 1, 1)
    tt = t.double()[None, :, None]
    sin_w = torch.sin(w)
    ok = sin_w.abs() > 1e-6
    safe = torch.where(ok, sin_w, torch.ones_like(sin_w))
    spherical = (torch.sin((1 - tt) * w) / safe) * a64[:, None] + (torch.sin(tt * w) / safe) * b64[:, None]
    return torch.where(ok, spherical, lerp(a64, b64, t)).to(a.dtype)


def default_interpolation(model: AutoencoderModule) -> str:
    """"slerp" for a VAE (Gaussian prior), "linear" otherwise."""
    return "slerp" if model.has_prior else "linear"


@dataclass
class Interpolation:
    """Paths between pairs of images through the code space.

    Attributes:
        images: (P, S, C, H, W) decoded path points in [0, 1].
        starts, ends: (P, C, H, W) the original end images in [0, 1].
        alphas: (S,) positions along each path, 0 to 1.
        method: registered interpolation name.
        pairs: (P, 2) indices of the end images in their split.
    """

    images: torch.Tensor
    starts: torch.Tensor
    ends: torch.Tensor
    alphas: torch.Tensor
    method: str
    pairs: torch.Tensor


def interpolate(model: AutoencoderModule, starts: torch.Tensor, ends: torch.Tensor, steps: int = 10,
                method: str | None = None, pairs: torch.Tensor | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE) -> Interpolation:
    """Encode ``starts`` and ``ends`` (P, C, H, W), move from each start's code to its end's
    in ``steps`` (>= 2) points of the ``method`` path (default: slerp for a VAE, linear
    otherwise) and decode them."""
    check_steps(steps)
    method = method or default_interpolation(model)
    path = INTERPOLATIONS.get(method)
    if starts.shape != ends.shape:
        raise UserError(f"starts {tuple(starts.shape)} and ends {tuple(ends.shape)} differ; give pairs of images")
    za = encode_all(model, starts, batch_size)
    zb = encode_all(model, ends, batch_size)
    alphas = torch.linspace(0.0, 1.0, steps)
    codes = path(za, zb, alphas)  # (P, S, D)
    images = decode_codes(model, codes.reshape(-1, code_size(model)), batch_size)
    p = len(starts)
    idx = pairs if pairs is not None else torch.stack([torch.arange(p), torch.arange(p)], 1)
    return Interpolation(images.reshape(p, steps, *images.shape[1:]), to_float(starts.cpu()),
                         to_float(ends.cpu()), alphas, method, idx)
