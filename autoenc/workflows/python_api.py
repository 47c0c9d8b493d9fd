"""The public Python API, for notebooks and scripts: the same things the ``autoenc`` command
does, as functions taking a :class:`~autoenc.runs.run.Run` (or a run directory / checkpoint path,
or a model with its images).

    import autoenc
    run = autoenc.fit("configs/digits_vae.yaml", trainer={"max_epochs": 5})
    run = autoenc.load("runs/digits_vae/version_0")
    autoenc.traverse(run)[0]          # a Picture; shown inline in Jupyter, .write(dir) saves it
    autoenc.estimate_id(run.encode())  # intrinsic dimension of the validation codes

Each look function returns :class:`~autoenc.render.pictures.Picture` objects (a PNG array, a
GIF's frames or a figure) and writes nothing unless ``out`` is given.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from autoenc.core.constraints import Interval, check_param
from autoenc.core.errors import UserError
from autoenc.core.image_inputs import unit_images
from autoenc.data.source import ImageArrays
from autoenc.models.autoencoder_module import AutoencoderModule
from autoenc.render.pictures import Picture, write_pictures
from autoenc.runs.run import Run
from autoenc.workflows.views import (
    interpolation_view,
    latent_map_view,
    reconstructions_view,
    samples_view,
    traversal_view,
)

__all__ = ["latent_map", "load", "reconstruct", "sample", "interpolate", "traverse"]

RunLike = Run | AutoencoderModule | str | os.PathLike


def load(path: str | os.PathLike, **data_overrides: Any) -> Run:
    """Open a run directory or checkpoint: model (eval mode), data module, epoch and step.
    ``data_overrides`` change data options (``batch_size=512``, ``subset=1000``)."""
    return Run.open(path, **data_overrides)


def _as_arrays(images: torch.Tensor | ImageArrays) -> ImageArrays:
    """The images a look function draws, as uint8 arrays; floats outside [0, 1] are refused
    (:func:`autoenc.core.image_inputs.unit_images`), not clipped."""
    if isinstance(images, ImageArrays):
        return images
    if isinstance(images, torch.Tensor) and images.dtype == torch.uint8:
        unit_images(images, "images")  # shape and emptiness
        return ImageArrays(images.detach().cpu())
    floats = unit_images(images, "images")
    return ImageArrays((floats.cpu() * 255).round().to(torch.uint8))


def _model_and_data(run: RunLike, images: torch.Tensor | ImageArrays | None,
                    split: str) -> tuple[AutoencoderModule, ImageArrays]:
    """The model and the images a look function works on: ``images`` when given, else the
    run's ``split``."""
    if not isinstance(run, Run | AutoencoderModule | str | os.PathLike):
        raise TypeError(f"run must be a Run (autoenc.load), a model, or a run directory / checkpoint path, "
                        f"got {type(run).__name__}")
    if isinstance(run, AutoencoderModule):
        if images is None:
            raise UserError("a bare model needs images=...; pass a Run (autoenc.load) to use its own data")
        return run, _as_arrays(images)
    opened = run if isinstance(run, Run) else Run.open(run)
    return opened.model, _as_arrays(images) if images is not None else opened.datamodule.arrays(split)


def _counts(**values: Any) -> None:
    """Refuse counts that are not integers >= 1 (``count="8"``), naming the argument."""
    for name, value in values.items():
        check_param(name, [Interval(int, 1, None, closed="left")], value)


def _maybe_write(pictures: list[Picture], out: str | os.PathLike | None) -> list[Picture]:
    if out is not None:
        write_pictures(pictures, out)
    return pictures


def reconstruct(run: RunLike, images: torch.Tensor | ImageArrays | None = None, *, split: str = "val",
                count: int = 16, seed: int = 0, out: str | os.PathLike | None = None) -> list[Picture]:
    """``reconstructions.png``: ``count`` random images (top rows) above their reconstructions."""
    _counts(count=count)
    model, data = _model_and_data(run, images, split)
    return _maybe_write(reconstructions_view(model, data, count=min(count, len(data)), seed=seed), out)


def traverse(run: RunLike, images: torch.Tensor | ImageArrays | None = None, *, split: str = "val",
             dims: list[int] | None = None, steps: int = 9, seed: int = 0,
             out: str | os.PathLike | None = None) -> list[Picture]:
    """``traversal.png`` and ``traversal.gif``: each latent (``dims``, default all, ordered by KL
    for a VAE or code variance for an AE) swept over ``steps`` values around the codes."""
    _counts(steps=steps)
    model, data = _model_and_data(run, images, split)
    return _maybe_write(traversal_view(model, data, dims=dims, steps=steps, seed=seed), out)


def sample(run: RunLike, images: torch.Tensor | ImageArrays | None = None, *, split: str = "val",
           count: int = 64, seed: int = 0, out: str | os.PathLike | None = None) -> list[Picture]:
    """``samples.png``: decoded draws from the prior (VAE) or a Gaussian fitted to the codes (AE)."""
    _counts(count=count)
    model, data = _model_and_data(run, images, split)
    return _maybe_write(samples_view(model, data, count=count, seed=seed), out)


def interpolate(run: RunLike, images: torch.Tensor | ImageArrays | None = None, *, split: str = "val",
                count: int = 4, steps: int = 10, seed: int = 0,
                out: str | os.PathLike | None = None) -> list[Picture]:
    """``interpolation.png``: paths between the codes of ``count`` random pairs of images."""
    _counts(count=count, steps=steps)
    model, data = _model_and_data(run, images, split)
    return _maybe_write(interpolation_view(model, data, count=count, steps=steps, seed=seed), out)


def latent_map(run: RunLike, images: torch.Tensor | ImageArrays | None = None, *, split: str = "val",
               method: str = "pca", color_by: str | None = None, seed: int = 0,
               out: str | os.PathLike | None = None) -> list[Picture]:
    """``latent_map.png``: the codes projected to 2-D (``pca`` or ``tsne``), coloured by label."""
    model, data = _model_and_data(run, images, split)
    return _maybe_write(latent_map_view(model, data, method=method, color_by=color_by, seed=seed), out)
