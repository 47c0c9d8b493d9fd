"""One check for images handed to autoenc from Python: what they must be, said in one line.

Images are float ``(N, C, H, W)`` in [0, 1] (the data contract) or ``uint8`` in 0..255, which
is divided by 255, as the look functions document. Floats outside [0, 1] (images in 0..255
kept as floats, standardised images) are refused instead of being encoded as garbage, and
so are NaN / inf values, an empty batch, the wrong number of dimensions and objects that
are not arrays at all (a ``TypeError`` naming the argument).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autoenc.core.errors import UserError

if TYPE_CHECKING:
    import torch

__all__ = ["check_unit_range", "unit_images", "unit_rows"]

_WHAT = "float values in [0, 1] or uint8 in 0..255"


def check_unit_range(values: Any, name: str) -> None:
    """Refuse float (or non-uint8 integer) ``values`` (a numpy array or torch tensor) that are
    not finite or not in [0, 1], naming ``name`` and the range found."""
    if values.size == 0 if isinstance(values, np.ndarray) else values.numel() == 0:
        return
    low, high = float(values.min()), float(values.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise UserError(f"{name} must hold {_WHAT}, got NaN or infinite values")
    if low < 0 or high > 1:
        hint = ("divide by 255 first (or pass uint8)" if high > 1 and low >= 0 and high <= 255
                else "scale them into [0, 1] first")
        raise UserError(f"{name} must hold {_WHAT}, got {values.dtype} values in [{low:g}, {high:g}]; {hint}")


def unit_images(images: Any, name: str = "images", ndim: int = 4) -> torch.Tensor:
    """``images`` as a float32 tensor in [0, 1] with ``ndim`` dimensions, N >= 1.

    Args:
        images: (N, C, H, W) torch tensor or numpy array: float in [0, 1], or uint8 (divided by
            255), or bool (0 / 1).
        name: the argument's name, for messages.

    Raises:
        TypeError: not a tensor or array.
        UserError: wrong number of dimensions, an empty batch, values outside [0, 1].
    """
    import torch

    if isinstance(images, np.ndarray):
        if images.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a numeric array, got dtype {images.dtype}")
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a (N, C, H, W) torch tensor or numpy array ({_WHAT}), "
                        f"got {type(images).__name__}")
    if images.ndim != ndim:
        raise UserError(f"{name} must have {ndim} dimensions (N, C, H, W), got shape {tuple(images.shape)}")
    if len(images) == 0:
        raise UserError(f"{name} is an empty batch (shape {tuple(images.shape)}); give at least one image")
    if images.is_complex():
        raise TypeError(f"{name} must be real-valued, got {images.dtype}")
    if images.dtype == torch.uint8:
        return images.float().div_(255)
    if images.dtype == torch.bool:
        return images.float()
    check_unit_range(images.detach(), name)
    return images.detach().float()


def unit_rows(X: Any, name: str = "X") -> Any:
    """``X`` for a transformer over flattened images: uint8 divided by 255 (float32), other
    arrays returned as they are once their values are checked to be in [0, 1]; non-arrays are
    returned untouched for scikit-learn's own validation."""
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    if not isinstance(X, np.ndarray):
        return X
    if X.dtype == np.uint8:
        return X.astype(np.float32) / 255
    if X.dtype.kind in "iuf":
        check_unit_range(X, name)
    return X
