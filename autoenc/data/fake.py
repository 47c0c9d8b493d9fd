"""torchvision's FakeData: random images for smoke tests and throughput measurements."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from autoenc.core.constraints import POSITIVE_INT, SEED, check_params
from autoenc.data.source import ImageArrays, ImageSource, check_channels, register_source


class _FakeUint8(Dataset):
    def __init__(self, size: int, shape: tuple[int, int, int], num_classes: int, seed: int) -> None:
        from torchvision.datasets import FakeData

        self.fake = FakeData(size=size, image_size=shape, num_classes=num_classes, random_offset=seed)

    def __len__(self) -> int:
        return len(self.fake)

    def __getitem__(self, i: int):
        image, label = self.fake[i]
        array = np.asarray(image, dtype=np.uint8)
        if array.ndim == 2:
            array = array[:, :, None]
        return torch.from_numpy(array.copy()).permute(2, 0, 1), torch.tensor(int(label))


@register_source
class Fake(ImageSource):
    """``torchvision.datasets.FakeData``: uniform-noise images with random labels.

    Args:
        size: number of images; num_classes: label range; seed: FakeData's random_offset.
    """

    name = "fake"
    native_shape = (3, 32, 32)
    parameter_constraints = {"size": [POSITIVE_INT], "num_classes": [POSITIVE_INT], "seed": [SEED]}

    def __init__(self, *, size: int = 1000, num_classes: int = 10, seed: int = 0) -> None:
        check_params(self.parameter_constraints, locals(), owner=self.name)
        self.size = size
        self.num_classes = num_classes
        self.seed = seed

    def _dataset(self, image_size: int | None, channels: int | None) -> _FakeUint8:
        check_channels(channels)
        c, h, w = self.output_shape(image_size, channels)
        return _FakeUint8(self.size, (c, h, w), self.num_classes, self.seed)

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        dataset = self._dataset(image_size, channels)
        items = [dataset[i] for i in range(len(dataset))]
        return ImageArrays(
            images=torch.stack([im for im, _ in items]),
            targets=torch.stack([t for _, t in items]).to(torch.int64),
            target_names=[str(i) for i in range(self.num_classes)],
            description={"source": self.name, **self.options()},
        )

    def stream(self, image_size: int | None, channels: int | None) -> Dataset:
        return self._dataset(image_size, channels)

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        c, h, w = self.output_shape(image_size, channels)
        return self.size * c * h * w
