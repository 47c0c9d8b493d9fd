"""Open a trained run: the model and the data module it was trained on, from the checkpoint alone."""

from __future__ import annotations

import os
from typing import Any

from autoenc.data.module import ImageDataModule
from autoenc.errors import CheckpointError, UserError
from autoenc.models.base import AutoencoderModule
from autoenc.training.checkpoints import read_checkpoint, resolve_checkpoint


def datamodule_from_checkpoint(path: str | os.PathLike, **overrides: Any) -> ImageDataModule:
    """The :class:`ImageDataModule` a checkpoint was trained with (source, image_size,
    channels, split seed ...), with ``overrides`` applied (e.g. ``batch_size=512``)."""
    ckpt = read_checkpoint(path)
    hp = ckpt.get("datamodule_hyper_parameters")
    if not hp or "source" not in hp:
        raise CheckpointError(f"{str(path)!r} does not record its data; pass the data options explicitly")
    kwargs = {k: v for k, v in hp.items() if not k.startswith("_")}
    kwargs.update(overrides)
    return ImageDataModule(**kwargs)


def check_input_shape(model: AutoencoderModule, shape: tuple[int, ...]) -> None:
    """Refuse data whose (C, H, W) differs from the model's input_shape (naming both)."""
    if tuple(shape) != tuple(model.input_shape):
        raise UserError(
            f"data images are {tuple(shape)} but the model takes {tuple(model.input_shape)}; "
            "set data image_size/channels to match"
        )


def load_run(path: str | os.PathLike, **data_overrides: Any) -> tuple[AutoencoderModule, ImageDataModule, str]:
    """(model in eval mode, its data module, the checkpoint path) for a checkpoint or run dir."""
    from autoenc.training.checkpoints import load_model

    ckpt = resolve_checkpoint(path)
    model = load_model(ckpt)
    dm = datamodule_from_checkpoint(ckpt, **data_overrides)
    check_input_shape(model, dm.input_shape)
    return model, dm, str(ckpt)
