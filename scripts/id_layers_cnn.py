"""Ansuini et al. (NeurIPS 2019) on a network trained here: the TwoNN ID layer by layer of a small
CNN classifier trained for a few minutes, against its untrained twin (same architecture, same
initial weights, no training).

The published shape: in trained networks the ID first rises, then falls towards the output;
untrained networks show no such profile. This script trains, measures both profiles with
:func:`autoenc.measure.intrinsic_dim.layer_profile.id_by_layer`, prints them, and says whether the
shape reproduces (a peak after the input, followed by a fall to the last hidden layer by more
than the error bars). It writes nothing unless ``--out DIR`` is given (JSON + plots).

    python scripts/id_layers_cnn.py                         # MNIST test set if present, else digits
    python scripts/id_layers_cnn.py --minutes 3 --out runs/id_cnn
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from autoenc.data import ImageDataModule
from autoenc.data.transforms import to_float
from autoenc.measure.intrinsic_dim.layer_profile import LayerID, id_by_layer

MNIST_ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
LAYERS = ["input", "block1", "block2", "block3", "hidden", "logits"]


def small_cnn(channels: int, size: int, classes: int = 10) -> nn.Sequential:
    """Three conv blocks (conv 3x3, ReLU, max-pool 2) of 16, 32, 64 channels, a 128-unit hidden
    layer, and the logits."""
    side = size // 8
    return nn.Sequential(OrderedDict([
        ("block1", nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))),
        ("block2", nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))),
        ("block3", nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))),
        ("flatten", nn.Flatten()),
        ("hidden", nn.Sequential(nn.Linear(64 * side * side, 128), nn.ReLU())),
        ("logits", nn.Linear(128, classes)),
    ]))


def data(root: Path) -> tuple[ImageDataModule, str]:
    from autoenc.data.idx import MNIST

    if (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file():
        return ImageDataModule(MNIST(root=str(root.resolve()), split="test"), image_size=24, val_fraction=0.2,
                               seed=0, num_workers=0), "MNIST test set (10,000 images) at 24 x 24, 80/20 split"
    return ImageDataModule("digits", image_size=16, val_fraction=0.3, seed=0, num_workers=0), \
        "scikit-learn digits at 16 x 16, 70/30 split"


def train(net: nn.Module, dm: ImageDataModule, seconds: float, seed: int = 0) -> tuple[int, float]:
    """Adam (lr 1e-3), batch 128, until ``seconds`` have passed; returns (epochs, validation accuracy)."""
    x, y = dm.arrays("train").images, dm.arrays("train").targets
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    start, epochs = time.perf_counter(), 0
    net.train()
    while time.perf_counter() - start < seconds:
        for idx in torch.randperm(len(x), generator=gen).split(128):
            loss = nn.functional.cross_entropy(net(to_float(x[idx])), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        epochs += 1
    net.eval()
    val = dm.arrays("val")
    with torch.no_grad():
        accuracy = float((net(to_float(val.images)).argmax(1) == val.targets).float().mean())
    return epochs, accuracy


def hunchback(profile: list[LayerID]) -> tuple[bool, str]:
    """Whether the profile rises after the input to a peak and then falls to the last hidden
    layer, each step by more than the two error bars together."""
    values = [p.id.value for p in profile]
    errors = [p.id.spread or 0.0 for p in profile]
    hidden = LAYERS.index("hidden")
    peak = int(np.argmax(values[1 : hidden + 1])) + 1
    rise = values[peak] - values[0] > errors[peak] + errors[0]
    fall = values[peak] - values[hidden] > errors[peak] + errors[hidden]
    return rise and fall, (f"peak at {profile[peak].layer} ({values[peak]:.1f}); input {values[0]:.1f}; "
                           f"last hidden {values[hidden]:.1f}; rise {'yes' if rise else 'no'}, fall "
                           f"{'yes' if fall else 'no'}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=2.0, help="training time (default 2)")
    p.add_argument("--points", type=int, default=2000, help="validation images measured (default 2000)")
    p.add_argument("--mnist-root", type=Path, default=MNIST_ROOT)
    p.add_argument("--out", type=Path, default=None, help="write id_layers_*.json and *.png here")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    dm, described = data(args.mnist_root)
    c, h, _ = dm.input_shape
    trained = small_cnn(c, h)
    untrained = copy.deepcopy(trained)  # the twin: same initial weights, never trained
    epochs, accuracy = train(trained, dm, args.minutes * 60)
    images = dm.arrays("val").images
    print(f"data: {described}; trained {epochs} epochs in {args.minutes:g} min: validation accuracy {accuracy:.4f}")
    profiles = {}
    for name, net in (("trained", trained), ("untrained", untrained)):
        profiles[name] = id_by_layer(net, images, LAYERS, max_points=args.points, repeats=5)
        ok, why = hunchback(profiles[name])
        print(f"{name}: rise-then-fall {'REPRODUCED' if ok else 'not seen'} ({why})")
        for layer in profiles[name]:
            print(f"  {layer.layer:<7} width {layer.width:>6}  ID {layer.id.value:6.2f} ± {layer.id.spread:.2f}")
    if args.out is not None:
        from autoenc.render.layer_profile_plots import plot_layer_profile

        args.out.mkdir(parents=True, exist_ok=True)
        for name, profile in profiles.items():
            (args.out / f"id_layers_{name}.json").write_text(json.dumps([la.to_dict() for la in profile], indent=2))
            plot_layer_profile(profile, title=f"small CNN, {name}").savefig(args.out / f"id_layers_{name}.png", dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
