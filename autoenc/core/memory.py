"""Memory estimates made before allocating: a size that cannot fit is one line saying what fits,
not an hour of swapping or the kernel's out-of-memory killer.

The estimates are lower bounds (what must exist at once: weights, their gradients and Adam's two
moments for a model; the arrays a measurement holds), compared with the memory available now
(``MemAvailable`` of ``/proc/meminfo``, else physical memory).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from autoenc.core.errors import UserError

if TYPE_CHECKING:
    from torch import nn

__all__ = ["available_bytes", "check_items_fit", "check_nets_fit", "gib", "parameter_count"]

#: Bytes per float32 parameter during training: the weight, its gradient, Adam's two moments.
TRAINING_BYTES_PER_PARAMETER = 16


def gib(nbytes: float) -> str:
    """``nbytes`` in words: ``1.5 GiB``, ``3.7e+09 GiB``."""
    return f"{nbytes / 2**30:.3g} GiB"


def available_bytes() -> int:
    """Memory this process could allocate now, in bytes (MemAvailable; else all physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**63


def parameter_count(build: Callable[[], nn.Module | Sequence[nn.Module]]) -> int | None:
    """Parameters of the module(s) ``build`` returns, built on PyTorch's meta device (shapes only,
    nothing allocated); None when the builder cannot run there (the check is then skipped)."""
    import torch

    try:
        with torch.device("meta"):
            built = build()
    except UserError:
        raise
    except Exception:  # a builder that needs real tensors: no estimate, build as usual
        return None
    modules = built if isinstance(built, Sequence) else [built]
    return sum(p.numel() for m in modules for p in m.parameters())


def check_nets_fit(build: Callable[[int], nn.Module | Sequence[nn.Module]], latent_dim: int,
                   input_shape: Sequence[int]) -> None:
    """Refuse a model whose training state (16 bytes a parameter) or one input image would not fit
    in the memory available, before any of it is allocated; say the largest latent_dim that fits
    when the latent size is what makes it too big.

    Args:
        build: latent_dim -> the model's nets (called on the meta device only).
        latent_dim: the size asked for.
        input_shape: (C, H, W) of one image.
    """
    available = available_bytes()
    image_bytes = math.prod(int(s) for s in input_shape) * 4
    if image_bytes > available:
        raise UserError(f"one {tuple(input_shape)} image takes {gib(image_bytes)} as float32 but {gib(available)} of "
                        "memory is available; use a smaller image_size")
    params = parameter_count(lambda: build(latent_dim))
    if params is None:
        return
    needed = params * TRAINING_BYTES_PER_PARAMETER
    if needed <= available:
        return
    hint = "use a smaller image_size or narrower nets"
    base = parameter_count(lambda: build(1)) if latent_dim > 1 else None
    if base is not None and base * TRAINING_BYTES_PER_PARAMETER < available and params > base:
        per_latent = (params - base) / (latent_dim - 1)
        fits = int((available / TRAINING_BYTES_PER_PARAMETER - base) / per_latent) + 1
        hint = f"at most latent_dim {fits:,} fits with these nets" if fits >= 1 else hint
    raise UserError(f"the model would have {params:,} parameters: {gib(needed)} to train (weights, gradients, Adam) "
                    f"but {gib(available)} of memory is available; {hint}")


def check_items_fit(what: str, count: int, bytes_per_item: int, option: str) -> None:
    """Refuse ``count`` items of ``bytes_per_item`` each (a lower bound) that cannot fit in the
    memory available, saying the largest ``option`` value that does."""
    available = available_bytes()
    needed = int(count) * int(bytes_per_item)
    if needed > available:
        raise UserError(f"{option} {count:,}: {what} would take at least {gib(needed)} but {gib(available)} of memory "
                        f"is available; at most {option} {available // max(1, bytes_per_item):,} fits")
