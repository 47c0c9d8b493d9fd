"""What an extraction writes, shared by the single-process and the multi-device builders:
the request (images, targets, fingerprint), the meta.json it ends with, the progress bar."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from autoenc.features.encoders import FrozenEncoder

__all__ = ["ExtractionRequest", "finish_meta", "progress_bar"]


@dataclass
class ExtractionRequest:
    """What to extract: images, their targets, and the cache fingerprint they imply.

    Attributes:
        images: (N, C, H, W) uint8.
        targets: (N,) or (N, F), or None.
        fingerprint: ``{"format", "kind", "encoder", "data"}`` for meta.json.
    """

    encoder: FrozenEncoder
    images: torch.Tensor
    targets: np.ndarray | None
    target_names: list[str] | None
    fingerprint: dict[str, Any]


def progress_bar(total: int, enabled: bool | None, desc: str = "features") -> Any:
    """A tqdm bar on stderr; ``enabled=None`` shows it only when stderr is a terminal."""
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, desc=desc, unit="img", file=sys.stderr, disable=not show, leave=False)


def finish_meta(request: ExtractionRequest, n: int, dim: int, build: dict[str, Any]) -> dict[str, Any]:
    """The full meta.json: fingerprint + shapes + build info."""
    shapes = {"features": [n, dim], "targets": None if request.targets is None else list(request.targets.shape)}
    return {**request.fingerprint, "encoder_source": request.encoder.source, "encoder_weights": request.encoder.weights,
            "shapes": shapes, "dtype": "float32", "target_names": request.target_names,
            "build": {**build, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}}
