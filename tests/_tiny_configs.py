"""The tiny digits fit config the sweep tests train (an MLP with one hidden layer of 64, a few
epochs): ``from _tiny_configs import tiny_config`` (tests/ is on sys.path via its conftest)."""

from __future__ import annotations

from typing import Any


def tiny_config(name: str, model_class: str, max_epochs: int) -> dict[str, Any]:
    """A fit config mapping: digits (batch 128, 15% validation), ``model_class`` with an MLPNet
    of one hidden layer of 64 units at lr 0.005, ``max_epochs`` epochs, seed 0."""
    return {
        "name": name, "seed_everything": 0,
        "data": {"source": "digits", "batch_size": 128, "val_fraction": 0.15},
        "model": {"class_path": model_class,
                  "init_args": {"net": {"class_path": "MLPNet", "init_args": {"hidden": [64]}}, "lr": 0.005}},
        "trainer": {"max_epochs": max_epochs, "log_every_n_steps": 5},
    }
