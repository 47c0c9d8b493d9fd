"""Every shipped config trains for two steps as is, apart from where its data comes from.

Sources that would download get stand-in data through CLI overrides (small files in the
real layouts, written here; MNIST uses the real test set when this workspace has it); big
generated sources get a smaller grid or count. Model and data-module options stay as the
config has them, except batch size and subset so each run takes seconds. A new config
fails until it gets a stand-in entry in STAND_INS.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from _fit import CONFIGS, column, fit, read_metrics

from autoenc.models import MODELS
from autoenc.nets import net_from_config
from autoenc.runs.checkpoints import load_model, read_checkpoint

SHARED_MNIST = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist").resolve()
FAST = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
        "--trainer.num_sanity_val_steps", "0", "--data.batch_size", "16", "--data.num_workers", "0"]


# -- stand-in data in the real layouts -------------------------------------------------------------
def idx(array: np.ndarray) -> bytes:
    """IDX encoding (uint8 data): magic 0 0 8 ndim, big-endian int32 dims, the bytes."""
    return bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes() + array.tobytes()


def mnist_root(tmp: Path) -> Path:
    if (SHARED_MNIST / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file():
        return SHARED_MNIST  # the real test set (10,000 images)
    raw = tmp / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    (raw / "t10k-images-idx3-ubyte").write_bytes(idx(rng.integers(0, 256, (80, 28, 28), dtype=np.uint8)))
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx((np.arange(80) % 10).astype(np.uint8)))
    return tmp


def cifar_root(tmp: Path) -> Path:
    folder = tmp / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (12, 3072), dtype=np.uint8), "labels": list(range(12))}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return tmp


def celeba_root(tmp: Path, n: int = 40) -> Path:
    from PIL import Image

    d = tmp / "celeba"
    (d / "img_align_celeba").mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name in names:  # aligned CelebA images are 178 wide, 218 high
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(d / "img_align_celeba" / name)
    rows = [f"{name} {' '.join(rng.choice(['1', '-1'], 2))}" for name in names]
    (d / "list_attr_celeba.txt").write_text("\n".join([str(n), "Smiling Young", *rows]) + "\n")
    (d / "list_eval_partition.txt").write_text("".join(f"{name} 0\n" for name in names))
    return tmp


def image_folder(tmp: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        (tmp / label).mkdir(parents=True)
        for i in range(20):
            Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(tmp / label / f"{i}.png")
    return tmp


def sprites_grid(tmp: Path) -> list[str]:
    pytest.importorskip("autoenc.data.sprites", reason="the sprites source (autoenc/data/sprites.py) is not there yet")
    grid = {"shapes": [0, 1, 2], "scales": [0, 5], "orientations": [0], "pos_x": [0, 10, 20, 31],
            "pos_y": [0, 10, 20, 31]}  # 96 images instead of 737,280
    return ["--data.source", yaml.safe_dump({"class_path": "Sprites", "init_args": grid}, default_flow_style=True)]


STAND_INS: dict[str, Callable[[Path], list[str]]] = {
    "digits_ae": lambda tmp: ["--data.subset", "64"],
    "digits_vae": lambda tmp: ["--data.subset", "64"],
    "patches_vae": lambda tmp: ["--data.source.init_args.count", "64"],
    "mnist_ae": lambda tmp: ["--data.source.init_args.root", mnist_root(tmp), "--data.source.init_args.download",
                             "false", "--data.subset", "64"],
    "mnist_dae": lambda tmp: STAND_INS["mnist_ae"](tmp),
    "mnist_vae": lambda tmp: STAND_INS["mnist_ae"](tmp),
    "mnist_topk": lambda tmp: STAND_INS["mnist_ae"](tmp),
    "mnist_spatial_vae": lambda tmp: STAND_INS["mnist_ae"](tmp),
    "digits_topk": lambda tmp: ["--data.subset", "64"],
    "digits_spatial_vae": lambda tmp: ["--data.subset", "64"],
    "cifar10_resnet_vae": lambda tmp: ["--data.source.init_args.root", cifar_root(tmp),
                                       "--data.source.init_args.check_md5", "false",
                                       "--data.source.init_args.download", "false", "--data.subset", "64"],
    "celeba_vae": lambda tmp: ["--data.source.init_args.root", celeba_root(tmp),
                               "--data.source.init_args.check_md5", "false",
                               "--data.source.init_args.download", "false"],
    "image_folder_ae": lambda tmp: ["--data.source.init_args.root", image_folder(tmp)],
    "sprites_betavae": sprites_grid,
    "sprites_capacity_vae": sprites_grid,
    "sprites_vae_small": sprites_grid,
    "sprites_betavae_small": sprites_grid,
    "sprites_tcvae_small": sprites_grid,
    "dsprites_full_tcvae": sprites_grid,
}


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_config_trains_two_steps(config: Path, tmp_path: Path) -> None:
    if config.stem not in STAND_INS:
        pytest.fail(f"configs/{config.name} has no stand-in in tests/training/test_training_configs.py "
                    "STAND_INS; add one (data that needs no download, a few seconds of training)")
    spec = yaml.safe_load(config.read_text())
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    runs = tmp_path / "runs"

    code = fit("-c", config, "--runs_dir", runs, *FAST, *STAND_INS[config.stem](data_dir))
    assert code == 0

    (run,) = (runs / spec["name"]).iterdir()
    last = run / "checkpoints" / "last.ckpt"
    assert read_checkpoint(last)["global_step"] == 2
    model = load_model(last)
    expected_class = spec["model"]["class_path"].rpartition(".")[2]
    assert type(model).__name__ == expected_class and type(model) is MODELS.get(model.model_name)
    for key, value in spec["model"]["init_args"].items():  # the config's model, as is
        if key == "net":
            assert model.net == net_from_config(value), key
            continue
        assert model.hparams[key] == value, key
    losses = column(read_metrics(run), "val/loss")
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    assert all(torch.isfinite(p).all() for p in model.parameters())
