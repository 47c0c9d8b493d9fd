"""The image-source contract: what every registered data source provides.

A source produces images as a uint8 tensor ``(N, C, H, W)`` plus targets, all in memory
(:meth:`ImageSource.load`), and optionally as a streaming ``Dataset`` of
``(uint8 (C, H, W), target)`` items for data that does not fit the memory budget
(:meth:`ImageSource.stream`). Downloads happen in :meth:`ImageSource.prepare`, never in
``__init__`` (which only stores and validates arguments).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from autoenc.core.constraints import Constraint, Interval, Null, Options, check_param
from autoenc.core.registry import Registry

#: What ``image_size`` and ``channels`` accept wherever they are given (data module, sources).
IMAGE_SIZE: list[Constraint] = [Interval(int, 4, None, closed="left"), Null(note="the source's own size")]
CHANNELS: list[Constraint] = [Options((1, 3), note="grey or RGB"), Null(note="the source's own")]


@dataclass
class ImageArrays:
    """Images held in memory.

    Attributes:
        images: (N, C, H, W) uint8.
        targets: (N,) int64 class labels, (N, F) factor values, or None.
        target_names: class names (labels) or factor names (factors), when known.
        description: what was loaded, for fingerprints (source, split, options).
    """

    images: torch.Tensor
    targets: torch.Tensor | None = None
    target_names: list[str] | None = None
    description: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"images must be uint8 (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.targets is not None and len(self.targets) != len(self.images):
            raise ValueError(
                f"{len(self.targets)} targets for {len(self.images)} images"
            )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)


class ImageSource:
    """Base class of data sources. Subclasses have typed keyword constructors (the config).

    Class attributes:
        name: registry name.
        native_shape: (C, H, W) the source produces without resizing, when fixed.
    """

    name: ClassVar[str] = ""
    native_shape: ClassVar[tuple[int, int, int] | None] = None
    #: What each constructor parameter accepts (checked in ``__init__``; every source
    #: declares all of its parameters, tested).
    parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    def output_shape(self, image_size: int | None, channels: int | None) -> tuple[int, int, int]:
        """(C, H, W) of the images :meth:`load` returns, without loading them."""
        if self.native_shape is None:
            raise NotImplementedError(f"{type(self).__name__} must define output_shape")
        c, h, w = self.native_shape
        return (channels or c, image_size or h, image_size or w)

    def prepare(self) -> None:
        """Download or generate files when asked to (``download: true``). Default: nothing."""

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        """All images in memory, resized to ``image_size`` (square) and converted to
        ``channels`` when given (None keeps the source's own)."""
        raise NotImplementedError

    def stream(self, image_size: int | None, channels: int | None) -> torch.utils.data.Dataset | None:
        """A map-style Dataset of ``(uint8 (C, H, W), target)``, or None when the source is
        in-memory only."""
        return None

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int | None:
        """Size of :meth:`load`'s images in bytes, when known without loading them."""
        return None

    def options(self) -> dict[str, Any]:
        """The constructor arguments, for fingerprints and messages."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({args})"


SOURCES: Registry[type[ImageSource]] = Registry("data source")


def register_source(cls: type[ImageSource]) -> type[ImageSource]:
    """Class decorator: add ``cls`` to :data:`SOURCES` under ``cls.name``."""
    SOURCES.register(cls.name, cls)
    return cls


def default_root() -> str:
    """Where datasets live unless a source is told otherwise: ``$AUTOENC_DATA`` or ``./data``."""
    return os.environ.get("AUTOENC_DATA", "data")


def check_channels(channels: int | None) -> None:
    """Refuse channel counts other than 1 and 3 (see :data:`CHANNELS`)."""
    check_param("channels", CHANNELS, channels)

