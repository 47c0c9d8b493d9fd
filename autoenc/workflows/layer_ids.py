"""Intrinsic dimension layer by layer of a run or a torchvision model named by a string: opens
it, then measures it with :func:`autoenc.measure.intrinsic_dim.layer_profile.id_by_layer`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from autoenc.measure.intrinsic_dim.layer_profile import LayerID
from autoenc.measure.intrinsic_dim.layer_profile import id_by_layer as measure_layers

TORCHVISION = "torchvision:"


def open_network(model: Any, *, weights: str | os.PathLike | None = None, weights_seed: int | None = None,
                 image_size: int | None = None) -> tuple[nn.Module, nn.Module | None]:
    """(network, preprocessing) for ``model``: a run directory or checkpoint path (its model),
    ``torchvision:<model>`` (random weights with ``weights_seed``, or ``weights``; ImageNet
    preprocessing at ``image_size``), or a module as it is."""
    if isinstance(model, str | os.PathLike):
        text = str(model)
        if text.startswith(TORCHVISION):
            from autoenc.features.encoders import Preprocess, torchvision_network

            network, _ = torchvision_network(text[len(TORCHVISION):], weights=weights, seed=weights_seed)
            return network, Preprocess(image_size)
        from autoenc.runs.run import Run

        return Run.open(text).model, None
    return model, None


def id_by_layer(model: Any, images: torch.Tensor | np.ndarray, layers: str | Sequence[str] = "all", *,
                weights: str | os.PathLike | None = None, weights_seed: int | None = None,
                image_size: int | None = None, **options: Any) -> list[LayerID]:
    """The TwoNN ID of each layer of ``model`` (see :func:`open_network`) on ``images``
    (N, C, H, W); ``options``: those of :func:`autoenc.measure.intrinsic_dim.layer_profile.id_by_layer`
    (max_points, repeats, fraction, seed, batch_size, device)."""
    network, preprocess = open_network(model, weights=weights, weights_seed=weights_seed, image_size=image_size)
    return measure_layers(network, images, layers, preprocess=preprocess, **options)
