"""Sources bundled with scikit-learn: real images that need no download."""

from __future__ import annotations

import numpy as np
import torch

from autoenc.core.constraints import POSITIVE_INT, SEED, Interval, Null, check_params
from autoenc.core.errors import UserError
from autoenc.data.source import ImageArrays, ImageSource, register_source
from autoenc.data.transforms import conform


@register_source
class Digits(ImageSource):
    """scikit-learn's 1,797 handwritten digits, 8 x 8 grey, labels 0-9 (UCI optdigits)."""

    name = "digits"
    native_shape = (1, 8, 8)

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        # Pixel values are counts 0..16 (4x4 blocks of a 32x32 bitmap); scale to 0..255.
        grey = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
        images = torch.from_numpy(grey).unsqueeze(1)
        return ImageArrays(
            images=conform(images, image_size, channels),
            targets=torch.from_numpy(bunch.target.astype(np.int64)),
            target_names=[str(i) for i in range(10)],
            description={"source": self.name},
        )

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        s = image_size or 8
        return 1797 * (channels or 1) * s * s


@register_source
class Patches(ImageSource):
    """Random square crops of scikit-learn's two sample photos (china.jpg, flower.jpg,
    427 x 640 RGB): real colour images with no download. Target = which photo (0 or 1).

    Args:
        count: number of patches.
        patch_size: crop side in pixels before any resize (default: the requested
            image_size, else 32).
        seed: crops are a deterministic function of the seed.
    """

    name = "patches"
    native_shape = (3, 32, 32)
    parameter_constraints = {
        "count": [POSITIVE_INT],
        "patch_size": [Interval(int, 4, 427, note="the photos are 427 x 640"), Null(note="the image size")],
        "seed": [SEED],
    }

    def __init__(self, *, count: int = 10_000, patch_size: int | None = None, seed: int = 0) -> None:
        check_params(self.parameter_constraints, locals(), owner=self.name)
        self.count = count
        self.patch_size = patch_size
        self.seed = seed

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        from sklearn.datasets import load_sample_images

        photos = torch.from_numpy(np.stack(load_sample_images().images))  # (2, 427, 640, 3)
        side = self.patch_size or image_size or 32
        if side > photos.shape[1]:
            raise UserError(f"patch size {side} exceeds the photos' height {photos.shape[1]}")
        g = torch.Generator().manual_seed(self.seed)
        which = torch.randint(0, photos.shape[0], (self.count,), generator=g)
        top = torch.randint(0, photos.shape[1] - side + 1, (self.count,), generator=g)
        left = torch.randint(0, photos.shape[2] - side + 1, (self.count,), generator=g)
        offs = torch.arange(side)
        rows = (top[:, None] + offs)[:, :, None]  # (N, side, 1)
        cols = (left[:, None] + offs)[:, None, :]  # (N, 1, side)
        crops = photos[which[:, None, None], rows, cols]  # (N, side, side, 3)
        images = crops.permute(0, 3, 1, 2).contiguous()
        return ImageArrays(
            images=conform(images, image_size, channels),
            targets=which.to(torch.int64),
            target_names=["china", "flower"],
            description={"source": self.name, **self.options()},
        )

    def output_shape(self, image_size: int | None, channels: int | None) -> tuple[int, int, int]:
        s = image_size or self.patch_size or 32
        return (channels or 3, s, s)

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        s = image_size or self.patch_size or 32
        return self.count * (channels or 3) * s * s
