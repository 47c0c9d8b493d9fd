"""Properties every registered data source must have, parametrized over ``SOURCES``.

Each source needs a tiny factory in ``FACTORIES`` (a few images, files written by the test):
a newly registered source without one makes ``test_every_source_has_a_tiny_factory`` and its
parametrized cases fail, so it cannot go untested.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from _datafiles import write_celeba, write_cifar, write_image, write_mnist

from autoenc.cli._generate import instantiate_datamodule
from autoenc.core.errors import UserError
from autoenc.data import SOURCES, ImageDataModule, ImageSource, make_source
from autoenc.data.module import source_spec


def _mnist_like(name: str, folder: str) -> Callable[[Path], ImageSource]:
    def make(root: Path) -> ImageSource:
        write_mnist(root / folder / "raw", n=12)
        return SOURCES.get(name)(root=str(root), split="test", check_md5=False)

    return make


def _cifar(root: Path) -> ImageSource:
    write_cifar(root / "cifar-10-batches-py", per_batch=2)
    return SOURCES.get("cifar10")(root=str(root), check_md5=False)


def _celeba(root: Path) -> ImageSource:
    write_celeba(root)
    return SOURCES.get("celeba")(root=str(root), crop=None, check_md5=False)


def _image_folder(root: Path) -> ImageSource:
    for i in range(3):
        write_image(root / "imgs" / "a" / f"{i}.png", (10 * i, 0, 0), (12, 12))
        write_image(root / "imgs" / "b" / f"{i}.png", (0, 10 * i, 200), (12, 12))
    return SOURCES.get("image_folder")(root=str(root / "imgs"))


# name -> (tmp_path -> a source of a few images). Add one line here for each new source.
FACTORIES: dict[str, Callable[[Path], ImageSource]] = {
    "digits": lambda root: SOURCES.get("digits")(),
    "patches": lambda root: SOURCES.get("patches")(count=10),
    "mnist": _mnist_like("mnist", "MNIST"),
    "fashion_mnist": _mnist_like("fashion_mnist", "FashionMNIST"),
    "cifar10": _cifar,
    "celeba": _celeba,
    "image_folder": _image_folder,
    "fake": lambda root: SOURCES.get("fake")(size=10),
    "sprites": lambda root: SOURCES.get("sprites")(shapes=[0, 2], scales=[5], orientations=[0],
                                                   pos_x=[0, 31], pos_y=[0, 31]),
}

# Smallest image side a source renders (default 4, the data module's floor).
MIN_SIZE: dict[str, int] = {"sprites": 32}


def size(source: ImageSource, wanted: int = 16) -> int:
    """``wanted``, raised to the smallest size ``source`` can render."""
    return max(wanted, MIN_SIZE.get(source.name, 4))


@pytest.fixture(params=SOURCES.list())
def tiny_source(request, tmp_path: Path) -> ImageSource:
    name = request.param
    if name not in FACTORIES:
        pytest.fail(f"data source {name!r} has no tiny factory in tests/data/test_sources_all.py "
                    "FACTORIES: add one so the source is tested")
    return FACTORIES[name](tmp_path)


def test_every_source_has_a_tiny_factory() -> None:
    missing = sorted(set(SOURCES.list()) - set(FACTORIES))
    assert not missing, f"sources without a tiny factory in FACTORIES: {missing}"


def test_source_names_match_the_registry(tiny_source: ImageSource) -> None:
    assert SOURCES.get(tiny_source.name) is type(tiny_source)


def test_load_gives_uint8_nchw_with_matching_targets(tiny_source: ImageSource) -> None:
    data = tiny_source.load(None, None)
    assert data.images.dtype == torch.uint8 and data.images.ndim == 4
    assert len(data) >= 4
    assert data.shape == tuple(tiny_source.output_shape(None, None))
    assert data.images.max() > data.images.min(), "images are blank"
    if data.targets is not None:
        assert len(data.targets) == len(data)
        if data.targets.dtype == torch.int64 and data.targets.ndim == 1 and data.target_names:
            assert 0 <= int(data.targets.min()) and int(data.targets.max()) < len(data.target_names)
    assert data.description.get("source") == tiny_source.name


@pytest.mark.parametrize("image_size, channels", [(16, 1), (16, 3), (20, None)])
def test_output_shape_is_known_before_loading(tiny_source: ImageSource, image_size, channels) -> None:
    image_size = size(tiny_source, image_size)
    expected = tuple(tiny_source.output_shape(image_size, channels))
    data = tiny_source.load(image_size, channels)
    assert data.shape == expected
    assert expected[1:] == (image_size, image_size)
    if channels is not None:
        assert expected[0] == channels


def test_two_channels_are_refused(tiny_source: ImageSource) -> None:
    with pytest.raises(UserError, match=r"channels"):
        tiny_source.load(size(tiny_source), 2)


def test_stream_yields_the_loaded_items(tiny_source: ImageSource) -> None:
    dataset = tiny_source.stream(size(tiny_source), None)
    if dataset is None:  # in-memory only: the module must hold it in memory whatever the budget
        assert ImageDataModule(tiny_source, image_size=size(tiny_source), memory_budget_gb=0).in_memory
        return
    data = tiny_source.load(size(tiny_source), None)
    assert len(dataset) == len(data)
    for i in (0, len(data) - 1):
        image, target = dataset[i]
        assert image.dtype == torch.uint8
        assert torch.equal(image, data.images[i])
        if data.targets is not None:
            assert torch.equal(torch.as_tensor(target), data.targets[i])


def test_spec_round_trip_rebuilds_the_same_source(tiny_source: ImageSource) -> None:
    rebuilt = make_source(source_spec(tiny_source))
    assert type(rebuilt) is type(tiny_source)
    assert rebuilt.options() == tiny_source.options()


def test_every_source_is_configurable_through_jsonargparse(tiny_source: ImageSource) -> None:
    # The YAML route of `autoenc fit` and `--data`: class_path + init_args through jsonargparse.
    cls = type(tiny_source)
    section = {"source": {"class_path": f"{cls.__module__}.{cls.__name__}", "init_args": tiny_source.options()},
               "image_size": size(tiny_source)}
    module = instantiate_datamodule(section)
    assert type(module.source) is cls and module.source.options() == tiny_source.options()


def test_data_module_shape_and_batches(tiny_source: ImageSource) -> None:
    module = ImageDataModule(tiny_source, image_size=size(tiny_source), val_fraction=0.25, batch_size=4, num_workers=0)
    before = module.input_shape
    module.setup("fit")
    assert module.input_shape == before
    x, y = module.on_after_batch_transfer(next(iter(module.train_dataloader())), 0)
    assert x.dtype == torch.float32 and tuple(x.shape[1:]) == before and len(x) <= 4
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert y is None or len(y) == len(x)


def test_streaming_module_serves_the_same_items(tiny_source: ImageSource) -> None:
    kwargs = {"image_size": size(tiny_source), "val_fraction": 0.25, "num_workers": 0, "seed": 5}
    streamed = ImageDataModule(tiny_source, memory_budget_gb=0, **kwargs)
    if streamed.in_memory:
        return  # in-memory only (checked above)
    held = ImageDataModule(tiny_source, **kwargs)
    streamed.setup(), held.setup()
    assert held.data is not None and streamed.data is None
    for split in ("train", "val"):
        a, b = held.arrays(split), streamed.arrays(split)
        assert torch.equal(a.images, b.images)
        if a.targets is not None:
            assert torch.equal(a.targets, b.targets)
