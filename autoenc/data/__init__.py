"""Image sources (a registry) and the Lightning data module that serves them."""

from types import ModuleType

from autoenc.core.lazy import submodule
from autoenc.data import sklearn_sources as _sklearn_sources  # noqa: F401  (registers)
from autoenc.data.celeba import CelebA
from autoenc.data.cifar import CIFAR10
from autoenc.data.fake import Fake
from autoenc.data.folder import ImageFolder
from autoenc.data.idx import MNIST, FashionMNIST, read_idx
from autoenc.data.module import ImageDataModule, make_source
from autoenc.data.sklearn_sources import Digits, Patches
from autoenc.data.source import SOURCES, ImageArrays, ImageSource, register_source
from autoenc.data.sprites import Sprites

__all__ = [
    "SOURCES", "ImageArrays", "ImageSource", "register_source", "ImageDataModule", "make_source",
    "Digits", "Patches", "MNIST", "FashionMNIST", "CIFAR10", "CelebA", "ImageFolder", "Fake",
    "Sprites", "read_idx",
]


def __getattr__(name: str) -> ModuleType:  # submodules on first use (autoenc.core.lazy)
    return submodule(__name__, name)
