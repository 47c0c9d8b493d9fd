"""Input corruptions for denoising autoencoders (applied to the input only, never the target)."""

from __future__ import annotations

from typing import Protocol

import torch

from autoenc.core.registry import Registry


class Corruption(Protocol):
    def __call__(self, x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """x: (B, C, H, W) in [0, 1] -> a corrupted copy in [0, 1]; ``x`` is not modified."""
        ...


NOISES: Registry[Corruption] = Registry("noise")
#: The valid range of ``level`` per noise, for validation messages.
NOISE_LEVEL_RANGE: dict[str, tuple[float, float | None]] = {
    "gaussian": (0.0, None), "masking": (0.0, 1.0), "salt_and_pepper": (0.0, 1.0),
}


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)


@NOISES.register("gaussian")
def gaussian_noise(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + N(0, level^2), clipped to [0, 1]; ``level`` is sigma."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + level * noise).clamp_(0.0, 1.0)


@NOISES.register("masking")
def masking_noise(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel set to 0 with probability ``level`` (Vincent et al. 2008)."""
    return x * (_uniform(x, generator) >= level)


@NOISES.register("salt_and_pepper")
def salt_and_pepper_noise(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel replaced with probability ``level`` by 0 or 1 (equally likely)."""
    u = _uniform(x, generator)
    salt = (_uniform(x, generator) < 0.5).to(x.dtype)
    return torch.where(u < level, salt, x)
