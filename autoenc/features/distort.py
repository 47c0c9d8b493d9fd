"""Random image distortions for retraining, as TensorFlow's image_retraining offers them.

``--random_crop``, ``--random_scale``, ``--flip_left_right`` and ``--random_brightness`` of
``tensorflow/examples/image_retraining/retrain.py`` (``add_input_distortions``): the image is
enlarged by ``(1 + crop) * (1 + U(0, scale))``, a window of the original size is cut at a
random place, optionally mirrored, and its brightness multiplied by ``U(1 - b, 1 + b)``. Here
the four are one batched affine resampling (``torch.nn.functional.grid_sample``) per batch.
Distorted images change every epoch, so their features cannot come from a cache: retraining
with distortions encodes each epoch's images again (the benchmark says what that costs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 (torch's usual alias)

from autoenc.core.constraints import check_params
from autoenc.features.retrain_options import DISTORTION_PARAMS

PARAMS = DISTORTION_PARAMS


@dataclass(frozen=True)
class Distortions:
    """Which random distortions to apply (all off by default).

    Attributes:
        crop: margin cropped at random, as a fraction of the image size (TF's random_crop / 100).
        scale: random enlargement up to this fraction (TF's random_scale / 100).
        flip: mirror left-right half of the images.
        brightness: multiply pixel values by U(1 - brightness, 1 + brightness) (TF's
            random_brightness / 100), then clip to [0, 1].
    """

    crop: float = 0.0
    scale: float = 0.0
    flip: bool = False
    brightness: float = 0.0

    def __post_init__(self) -> None:
        check_params(PARAMS, {"crop": self.crop, "scale": self.scale, "brightness": self.brightness})

    @property
    def active(self) -> bool:
        """Whether any distortion is on."""
        return bool(self.crop or self.scale or self.flip or self.brightness)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """images: (B, C, H, W) float in [0, 1] -> distorted (B, C, H, W) float in [0, 1]."""
        if not self.active:
            return images
        b = len(images)
        dev = images.device

        def uniform(low: float, high: float) -> torch.Tensor:
            return low + (high - low) * torch.rand(b, generator=generator).to(dev)

        zoom = (1 + self.crop) * uniform(1.0, 1.0 + self.scale)  # >= 1: the window is 1/zoom of the image
        half = 1 - 1 / zoom  # how far (in [-1, 1] coordinates) the window's centre may move
        sign = torch.where(uniform(0, 1) < 0.5, -1.0, 1.0) if self.flip else torch.ones(b, device=dev)
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0] = sign / zoom
        theta[:, 1, 1] = 1 / zoom
        theta[:, 0, 2] = uniform(-1, 1) * half
        theta[:, 1, 2] = uniform(-1, 1) * half
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if self.brightness:
            out = out * uniform(1 - self.brightness, 1 + self.brightness).view(b, 1, 1, 1)
        return out.clamp_(0, 1)
