"""The one batched encode loop: images in batches through ``model.encode`` (or any encoder).

Every consumer of codes (Run.encode, analysis's ``encode_all``, feature extraction, the
scikit-learn transformer) goes through :func:`batched`, so codes have one definition
(``model.encode``) and one way of being computed over a dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from autoenc.core.constraints import POSITIVE_INT, check_param
from autoenc.core.defaults import DEFAULT_BATCH_SIZE
from autoenc.data.transforms import to_float

Fn = Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]]


def batched(fn: Fn, images: torch.Tensor, batch_size: int = DEFAULT_BATCH_SIZE,
            device: torch.device | str | None = None) -> Iterator[tuple[int, tuple[torch.Tensor, ...]]]:
    """Yield ``(start, outputs)`` for consecutive batches of ``images`` under inference mode.

    Args:
        fn: e.g. ``model.encode``: (b, C, H, W) float in [0, 1] -> (b, *latent_shape) (or a
            tuple of such tensors, e.g. ``model.posterior``).
        images: (N, C, H, W) uint8 (scaled by 1/255) or float in [0, 1], on any device.
        batch_size: images per call of ``fn``.
        device: where ``fn`` runs (None: the device of ``fn``'s parameters, else the CPU).
    Yields:
        start index and ``fn``'s outputs for images[start : start + b], always as a tuple, on
        ``device``.
    """
    check_param("batch_size", [POSITIVE_INT], batch_size)
    device = torch.device(device) if device is not None else _device_of(fn)
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            out = fn(to_float(images[start : start + batch_size].to(device, non_blocking=True)))
            yield start, (out if isinstance(out, tuple) else (out,))


def encode_images(fn: Fn, images: torch.Tensor, batch_size: int = DEFAULT_BATCH_SIZE,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """``fn`` (e.g. ``model.encode``) over all ``images`` (N, C, H, W): (N, *latent_shape) float32
    on the CPU, without gradients; see :func:`batched`."""
    parts = [out[0].cpu() for _, out in batched(fn, images, batch_size, device)]
    return torch.cat(parts)


def _device_of(fn: Fn) -> torch.device:
    owner = getattr(fn, "__self__", fn)  # a bound method's module, or the module itself
    params = owner.parameters() if isinstance(owner, torch.nn.Module) else iter(())
    return next((p.device for p in params), torch.device("cpu"))
