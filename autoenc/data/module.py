"""ImageDataModule: any registered source, one deterministic train/val split, fast batches."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Literal

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from autoenc.core.constraints import (
    POSITIVE_INT,
    SEED,
    Constraint,
    InstanceOf,
    Interval,
    Null,
    Options,
    check_param,
    check_params,
)
from autoenc.core.errors import UserError
from autoenc.data.loaders import TensorBatches
from autoenc.data.source import CHANNELS, IMAGE_SIZE, SOURCES, ImageArrays, ImageSource
from autoenc.data.transforms import to_float


class _SourceSpec(Constraint):
    """``{"name": ..., "options": {...}}``, how checkpoints store a source."""

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, dict) and "name" in value

    def describe(self) -> str:
        return "a mapping with a source name and options"


def make_source(source: ImageSource | str | dict[str, Any]) -> ImageSource:
    """An :class:`ImageSource` from an instance, a registry name, or
    ``{"name": ..., "options": {...}}`` (how checkpoints store it)."""
    check_param("data source", SOURCE, source)
    if isinstance(source, ImageSource):
        return source
    if isinstance(source, str):
        cls = SOURCES.get(source)
        needed = [p.name for p in inspect.signature(cls).parameters.values()
                  if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if needed:
            raise UserError(f"data source {source!r} needs option {needed[0]}: write --data.source {cls.__name__} "
                            f"--data.source.init_args.{needed[0]} VALUE (in a config: source: {{class_path: "
                            f"{cls.__name__}, init_args: {{{needed[0]}: VALUE}}}})")
        return cls()
    cls = SOURCES.get(source["name"])  # {"name": ..., "options": {...}}, as checkpoints store it
    try:
        return cls(**source.get("options", {}))
    except TypeError as err:
        raise UserError(f"bad options for data source {source['name']!r}: {err}") from None


#: What a data module's ``source`` accepts (see :func:`make_source`).
SOURCE: list[Constraint] = [
    InstanceOf(ImageSource, "a source object"),
    InstanceOf(str, "a registered source name"),
    _SourceSpec(),
]

#: The checks of :class:`ImageDataModule`'s arguments (see :mod:`autoenc.core.constraints`).
PARAMS: dict[str, list[Constraint]] = {
    "source": SOURCE,
    "image_size": IMAGE_SIZE,
    "channels": CHANNELS,
    "val_fraction": [Interval(float, 0, 1, closed="neither", note="e.g. 0.1")],
    "batch_size": [POSITIVE_INT],
    "subset": [Interval(int, 2, None, closed="left", note="one item for each split"), Null()],
    "seed": [SEED],
    "num_workers": [Interval(int, 0, None, closed="left")],
    "memory_budget_gb": [Interval(float, 0, None, closed="left", note="0 streams every streamable source")],
}
SPLITS = ("train", "val", "all")


def source_spec(source: ImageSource) -> dict[str, Any]:
    """Plain-data description of a source (name + constructor options), for checkpoints."""
    return {"name": source.name, "options": source.options()}


class ImageDataModule(L.LightningDataModule):
    """Images from a registered source, split once into train / validation.

    Sources that fit ``memory_budget_gb`` are held once as a uint8 tensor (on the
    accelerator when training on one) and batched by indexing; larger ones stream through
    a DataLoader with ``num_workers`` processes. Batches are ``(x, y)`` with x uint8 on the
    way and float32 in [0, 1] once on the device (``on_after_batch_transfer``); y is the
    label / factor tensor or None.

    Args:
        source: a registry name (``digits``, ``mnist``, ...) or a configured source
            (in YAML: ``class_path: autoenc.data.MNIST`` + ``init_args``).
        image_size: square side to resize to (None: the source's own size).
        channels: 1 or 3 (None: the source's own).
        val_fraction: share of items in the validation split, in (0, 1).
        seed: fixes the split, the subset and the shuffling order.
        batch_size: images per batch.
        subset: use only this many items (a seeded random choice), e.g. for quick runs.
        num_workers: DataLoader processes for streamed sources.
        memory_budget_gb: hold the data in memory when its uint8 size is below this.
    """

    parameter_constraints: ClassVar[dict[str, list[Constraint]]] = PARAMS

    def __init__(
        self,
        source: ImageSource | str = "digits",
        image_size: int | None = None,
        channels: int | None = None,
        val_fraction: float = 0.1,
        seed: int = 0,
        batch_size: int = 128,
        subset: int | None = None,
        num_workers: int = 2,
        memory_budget_gb: float = 4.0,
    ) -> None:
        super().__init__()
        check_params(PARAMS, locals())
        self.source = make_source(source)
        self.image_size = image_size
        self.channels = channels
        self.val_fraction = float(val_fraction)
        self.seed = seed
        self.batch_size = batch_size
        self.subset = subset
        self.num_workers = num_workers
        self.memory_budget_gb = memory_budget_gb
        self.save_hyperparameters(ignore=["source"])
        self.hparams["source"] = source_spec(self.source)
        self._input_shape: tuple[int, int, int] | None = None
        self.data: ImageArrays | None = None
        self.stream_dataset: Dataset | None = None
        self.splits: dict[str, torch.Tensor] = {}

    # -- shape, known before any data is read ------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images this module yields (linked into the model by the CLI)."""
        if self._input_shape is None:
            self._input_shape = tuple(self.source.output_shape(self.image_size, self.channels))  # type: ignore[assignment]
        return self._input_shape  # type: ignore[return-value]

    @property
    def in_memory(self) -> bool:
        if self.data is not None:
            return True
        if self.stream_dataset is not None:
            return False
        probe = self.source.estimated_bytes(self.image_size, self.channels)
        streamable = type(self.source).stream is not ImageSource.stream
        return not streamable or probe is None or probe <= self.memory_budget_gb * 2**30

    # -- Lightning hooks ---------------------------------------------------------------
    def prepare_data(self) -> None:
        self.source.prepare()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        if self.in_memory:
            self.data = self.source.load(self.image_size, self.channels)
            n = len(self.data)
            device = self._device()
            if device.type != "cpu":
                self.data.images = self.data.images.to(device)
                if self.data.targets is not None:
                    self.data.targets = self.data.targets.to(device)
            shape = self.data.shape
        else:
            self.stream_dataset = self.source.stream(self.image_size, self.channels)
            n = len(self.stream_dataset)
            shape = tuple(self.stream_dataset[0][0].shape)
        if self._input_shape is not None and tuple(shape) != self._input_shape:
            raise UserError(f"source {self.source.name!r} produced images {tuple(shape)}, expected {self._input_shape}")
        self._input_shape = tuple(shape)  # type: ignore[assignment]
        self.splits = self._split(n)

    def _device(self) -> torch.device:
        trainer = getattr(self, "trainer", None)
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def _split(self, n: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed)
        order = torch.randperm(n, generator=g)
        if self.subset is not None:
            if self.subset > n:
                raise UserError(
                    f"subset {self.subset} exceeds the {n} images of source {self.source.name!r}; "
                    f"use subset <= {n} or null (all images)"
                )
            order = order[: self.subset]
        n_val = max(1, round(len(order) * self.val_fraction))
        if n_val >= len(order):
            raise UserError(f"{len(order)} images are too few for val_fraction {self.val_fraction}; add data or lower it")
        return {"val": order[:n_val].sort().values, "train": order[n_val:].sort().values}

    def _loader(self, split: str, shuffle: bool):
        self.setup()
        indices = self.splits[split]
        trainer = getattr(self, "trainer", None)
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        if self.data is not None:
            return TensorBatches(self.data.images, self.data.targets, indices, self.batch_size,
                                 shuffle=shuffle, seed=self.seed, rank=rank, world_size=world)
        return DataLoader(
            Subset(self.stream_dataset, indices.tolist()), batch_size=self.batch_size, shuffle=shuffle,
            num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
            collate_fn=_images_only if self._stream_has_no_targets() else None,
        )

    def _stream_has_no_targets(self) -> bool:
        # e.g. an image folder without class subfolders: its items carry a placeholder -1,
        # served as y = None like the in-memory path does.
        return getattr(self.stream_dataset, "targets", False) is None

    def train_dataloader(self):
        return self._loader("train", shuffle=True)

    def val_dataloader(self):
        return self._loader("val", shuffle=False)

    def test_dataloader(self):
        """The validation split (sources' own test splits are chosen with ``split:``)."""
        return self._loader("val", shuffle=False)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        x, y = batch
        return to_float(x), y

    # -- direct access for analysis ------------------------------------------------------
    def arrays(self, split: Literal["train", "val", "all"] = "val") -> ImageArrays:
        """The images of ``split`` as uint8 :class:`ImageArrays` (loads streamed sources)."""
        check_param("split", [Options(SPLITS)], split)
        self.setup()
        # "all" is the items in use: both splits, i.e. the subset when one is set.
        idx = torch.cat([self.splits["train"], self.splits["val"]]).sort().values if split == "all" else self.splits[split]
        if self.data is not None:
            d = self.data
            idx = idx.to(d.images.device)
            return ImageArrays(d.images[idx], None if d.targets is None else d.targets[idx],
                               d.target_names, {**d.description, "split": split})
        items = [self.stream_dataset[i] for i in idx.tolist()]
        targets = None if self._stream_has_no_targets() else torch.stack([t for _, t in items])
        return ImageArrays(torch.stack([im for im, _ in items]), targets,
                           None, {"source": self.source.name, "split": split})


def _images_only(items: list[tuple[torch.Tensor, Any]]) -> tuple[torch.Tensor, None]:
    """Collate ``(image, placeholder)`` items of an unlabelled stream into ``(images, None)``."""
    return torch.stack([image for image, _ in items]), None
