"""ImageDataModule: split, validation of options, batches, in-memory vs streaming, arrays."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from _datafiles import write_image
from torch.utils.data import DataLoader

from autoenc.core.errors import UserError
from autoenc.data import MNIST, SOURCES, Digits, Fake, ImageDataModule, ImageFolder, make_source
from autoenc.data.loaders import TensorBatches


def digits_module(**kwargs) -> ImageDataModule:
    kwargs.setdefault("num_workers", 0)
    module = ImageDataModule("digits", **kwargs)
    module.setup("fit")
    return module


def test_split_is_disjoint_covering_and_deterministic() -> None:
    a, b = digits_module(seed=3, val_fraction=0.2), digits_module(seed=3, val_fraction=0.2)
    train, val = a.splits["train"], a.splits["val"]
    assert len(val) == round(1797 * 0.2) and len(train) == 1797 - len(val)
    assert torch.equal(torch.cat([train, val]).sort().values, torch.arange(1797))
    assert torch.equal(train, b.splits["train"]) and torch.equal(val, b.splits["val"])
    assert not torch.equal(val, digits_module(seed=4, val_fraction=0.2).splits["val"])


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.1"])
def test_val_fraction_outside_zero_one(fraction) -> None:
    with pytest.raises(UserError, match=rf"val_fraction must be a number in \(0, 1\) \(e\.g\. 0\.1\), got {re.escape(repr(fraction))}$"):
        ImageDataModule("digits", val_fraction=fraction)


@pytest.mark.parametrize("size", [3, 0, -8, 2.5])
def test_image_size_below_4(size) -> None:
    with pytest.raises(UserError, match=rf"image_size must be an integer >= 4 or null \(the source's own size\), got {size!r}"):
        ImageDataModule("digits", image_size=size)


def test_unknown_source_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"unknown data source 'digitz'\. Did you mean 'digits'\? Known: ") as err:
        ImageDataModule("digitz")
    assert str(err.value).endswith(", ".join(SOURCES.list()))


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
    ({"batch_size": None}, r"batch_size must be an integer >= 1, got None"),
    ({"subset": 1}, r"subset must be an integer >= 2 \(one item for each split\) or null, got 1"),
    ({"num_workers": -1}, r"num_workers must be an integer >= 0, got -1"),
    ({"memory_budget_gb": -1.0}, r"memory_budget_gb must be a number >= 0"),
    ({"seed": "x"}, r"seed must be an integer, got 'x'"),
    ({"channels": 2}, r"channels must be one of 1, 3 \(grey or RGB\) or null \(the source's own\), got 2"),
])
def test_bad_options(kwargs, message) -> None:
    with pytest.raises(UserError, match=message):
        ImageDataModule("digits", **kwargs)


def test_subset() -> None:
    module = digits_module(subset=100, val_fraction=0.1)
    assert (len(module.splits["train"]), len(module.splits["val"])) == (90, 10)
    everything = module.arrays("all")
    assert len(everything) == 100
    ids = torch.cat([module.splits["train"], module.splits["val"]]).sort().values
    assert torch.equal(everything.images, module.data.images[ids])  # the subset, not items 0..99
    assert torch.equal(everything.targets, module.data.targets[ids])


def test_subset_larger_than_the_data() -> None:
    with pytest.raises(UserError, match=r"subset 5000 exceeds the 1797 images of source 'digits'; "
                       r"use subset <= 1797 or null"):
        digits_module(subset=5000)


def test_too_few_images_for_the_split(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", (1, 1, 1))
    module = ImageDataModule(ImageFolder(root=str(tmp_path)), image_size=8, num_workers=0)
    with pytest.raises(UserError, match=r"1 images are too few for val_fraction 0.1; add data or lower it"):
        module.setup()


def test_batches_are_float_in_unit_range_after_transfer() -> None:
    module = digits_module(batch_size=64, image_size=16)
    batches = list(module.train_dataloader())
    assert len(batches) == -(-len(module.splits["train"]) // 64)
    x, y = module.on_after_batch_transfer(batches[0], 0)
    assert x.shape == (64, 1, 16, 16) and x.dtype == torch.float32
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert y.dtype == torch.int64 and y.shape == (64,)
    raw, _ = batches[0]
    assert raw.dtype == torch.uint8 and torch.equal(x, raw.float() / 255)


def test_val_loader_is_in_split_order() -> None:
    module = digits_module(batch_size=50)
    images = torch.cat([x for x, _ in module.val_dataloader()])
    assert torch.equal(images, module.data.images[module.splits["val"]])
    assert torch.equal(images, module.arrays("val").images)


def test_input_shape_before_setup(shared_mnist: Path) -> None:
    module = ImageDataModule(MNIST(root=str(shared_mnist), split="test"), image_size=32, channels=3)
    assert module.input_shape == (3, 32, 32)
    module.setup()
    assert module.input_shape == (3, 32, 32) and module.data.images.shape == (10_000, 3, 32, 32)
    assert (len(module.splits["train"]), len(module.splits["val"])) == (9_000, 1_000)


def test_hparams_rebuild_the_source() -> None:
    module = ImageDataModule(Fake(size=30, seed=2), image_size=8)
    spec = module.hparams["source"]
    assert spec == {"name": "fake", "options": {"size": 30, "num_classes": 10, "seed": 2}}
    assert make_source(spec).options() == module.source.options()
    assert module.hparams["image_size"] == 8


def test_unknown_split_for_arrays() -> None:
    with pytest.raises(UserError, match=r"split must be one of 'train', 'val', 'all', got 'test'"):
        digits_module().arrays("test")  # type: ignore[arg-type]


# -- in memory vs streaming --------------------------------------------------------------
@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(10):
        write_image(tmp_path / ("a" if i % 2 else "b") / f"{i}.png", (20 * i, 3 * i, 100), (9, 7))
    return tmp_path


def test_streaming_path_over_budget_gives_the_same_items(folder: Path) -> None:
    kwargs = {"image_size": 8, "val_fraction": 0.3, "batch_size": 4, "num_workers": 0, "seed": 1}
    memory = ImageDataModule(ImageFolder(root=str(folder)), **kwargs)
    stream = ImageDataModule(ImageFolder(root=str(folder)), memory_budget_gb=1e-9, **kwargs)
    assert memory.in_memory and not stream.in_memory
    assert stream.input_shape == memory.input_shape == (3, 8, 8)
    memory.setup(), stream.setup()
    assert stream.data is None and stream.stream_dataset is not None and stream.input_shape == (3, 8, 8)
    assert isinstance(stream.train_dataloader(), DataLoader)
    assert isinstance(memory.train_dataloader(), TensorBatches)
    for split in ("train", "val"):
        assert torch.equal(stream.splits[split], memory.splits[split])
        a, b = memory.arrays(split), stream.arrays(split)
        assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    streamed = torch.cat([x for x, _ in stream.val_dataloader()])
    assert torch.equal(streamed, memory.arrays("val").images)
    x, _ = stream.on_after_batch_transfer(next(iter(stream.train_dataloader())), 0)
    assert x.dtype == torch.float32 and 0 <= float(x.min()) and float(x.max()) <= 1


def test_in_memory_only_sources_ignore_the_budget() -> None:
    module = ImageDataModule(Digits(), memory_budget_gb=1e-9)
    assert module.in_memory


# -- inside a Lightning Trainer ------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:You passed in a `val_dataloader`", "ignore:.*LeafSpec.*is deprecated")
def test_trainer_sees_float_batches(tmp_path: Path) -> None:
    import lightning as L

    seen: list[tuple[torch.dtype, float, float]] = []

    class Probe(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def training_step(self, batch, batch_idx):
            x, _ = batch
            seen.append((x.dtype, float(x.min()), float(x.max())))
            return (self.w * x.mean()).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    module = ImageDataModule("digits", batch_size=256, num_workers=0)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
                        limit_val_batches=0)
    trainer.fit(Probe(), datamodule=module)
    assert len(seen) == -(-len(module.splits["train"]) // 256)
    assert all(dtype == torch.float32 and 0.0 <= lo and hi <= 1.0 for dtype, lo, hi in seen)


def test_unlabelled_folder_has_no_targets_in_memory_or_streamed(tmp_path: Path) -> None:
    for i in range(6):
        write_image(tmp_path / f"{i}.png", (i, i, i), (8, 8))
    for budget in (4.0, 1e-9):
        module = ImageDataModule(ImageFolder(root=str(tmp_path)), image_size=8, memory_budget_gb=budget,
                                 num_workers=0, batch_size=4, val_fraction=0.5)
        x, y = next(iter(module.train_dataloader()))
        assert module.in_memory == (budget > 1) and y is None and x.shape == (3, 3, 8, 8)
        assert module.arrays("val").targets is None
