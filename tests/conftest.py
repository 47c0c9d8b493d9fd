"""Fixtures shared by every test directory."""

from __future__ import annotations

from pathlib import Path

import pytest

# The official MNIST test set (10,000 images), kept next to the repository in this workspace;
# see ../shared/data/README.md. A fresh clone elsewhere does not have it.
SHARED_MNIST = (Path(__file__).parents[1] / ".." / "shared" / "data" / "mnist").resolve()
SHARED_MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="session")
def shared_mnist() -> Path:
    """Root of the real MNIST test set (``root/MNIST/raw/t10k-*.gz``), for
    ``MNIST(root=..., split="test")``; skips the test when the folder is absent."""
    raw = SHARED_MNIST / "MNIST" / "raw"
    missing = [n for n in SHARED_MNIST_FILES if not (raw / n).is_file()]
    if missing:
        pytest.skip(f"real MNIST test set not found: {', '.join(missing)} missing in {raw} "
                    "(only present in the project's shared workspace)")
    return SHARED_MNIST


def pytest_configure(config: pytest.Config) -> None:
    """One thread for torch and for numpy's BLAS / OpenMP pools, for the whole suite: its
    tensors are tiny, and on a shared 2-core machine a second thread mostly waits for a core
    (a resnet step measured 20x slower with 2 threads than with 1 under load). Benchmarks,
    not tests, measure multi-thread speed."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
