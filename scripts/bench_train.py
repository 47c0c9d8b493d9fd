"""Training steps/s of `autoenc fit` vs the same model in a hand-written PyTorch loop.

Both run in this process, alternating, on the same in-memory uint8 data, batch size and model
(built by the same class); the ratio is hand steps/s / autoenc steps/s (1.0 = no overhead).
The autoenc side is the real path: AutoencCLI builds data module, model and Trainer from a
config (checkpointing, CSV logging, the image callback, progress bar off). Validation is
disabled on both sides; warm-up steps are excluded from timing.

    python scripts/bench_train.py --regime conv_mnist   # (1) conv AE, 60,000 28x28, batch 128
    python scripts/bench_train.py --regime mlp_digits   # (2) MLP VAE on digits, batch 64
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time

import torch

from autoenc.data.base import SOURCES, ImageArrays, ImageSource, register_source

REGIMES = {
    "conv_mnist": dict(model="Autoencoder", encoder="conv", net_options={"widths": [32, 64]}, latent_dim=16,
                       batch_size=128, source="bench_random28", steps=60, warmup=10),
    "mlp_digits": dict(model="VariationalAutoencoder", encoder="mlp", net_options={"hidden": [256, 128]},
                       latent_dim=10, batch_size=64, source="digits", steps=600, warmup=50),
}


if "bench_random28" not in SOURCES:
    @register_source
    class BenchRandom28(ImageSource):
        """60,000 random 28x28 grey images (MNIST's shape and size; content does not affect speed)."""

        name = "bench_random28"
        native_shape = (1, 28, 28)

        def load(self, image_size, channels):
            g = torch.Generator().manual_seed(0)
            return ImageArrays(torch.randint(0, 256, (60_000, 1, 28, 28), dtype=torch.uint8, generator=g),
                               torch.zeros(60_000, dtype=torch.int64))


class StepTimer:
    """Wall time of steps [warmup, warmup + steps)."""

    def __init__(self, warmup: int) -> None:
        import lightning as L

        timer = self

        class _CB(L.Callback):
            def on_train_batch_start(self, trainer, *a):
                if trainer.global_step == timer.warmup:
                    timer.start = time.perf_counter()

            def on_train_end(self, trainer, *a):
                timer.end = time.perf_counter()

        self.warmup = warmup
        self.callback = _CB()
        self.start = self.end = 0.0


def autoenc_steps_per_s(regime: dict, runs_dir: str) -> float:
    from autoenc.training.cli import AutoencCLI

    timer = StepTimer(regime["warmup"])
    total = regime["warmup"] + regime["steps"]
    args = {
        "name": "bench", "runs_dir": runs_dir, "seed_everything": 0,
        "data": {"source": regime["source"], "batch_size": regime["batch_size"], "val_fraction": 0.01},
        "model": {"class_path": regime["model"], "init_args": {
            "latent_dim": regime["latent_dim"], "encoder": regime["encoder"], "net_options": regime["net_options"]}},
        "trainer": {"max_steps": total, "max_epochs": -1, "limit_val_batches": 0, "enable_progress_bar": False,
                    "callbacks": [timer.callback], "num_sanity_val_steps": 0},
    }
    cli = AutoencCLI(args=args, run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert cli.trainer.global_step == total, f"ran {cli.trainer.global_step} of {total} steps"
    return regime["steps"] / (timer.end - timer.start)


def hand_steps_per_s(regime: dict) -> float:
    from autoenc.data.module import ImageDataModule
    from autoenc.models import MODELS

    torch.manual_seed(0)
    dm = ImageDataModule(regime["source"], batch_size=regime["batch_size"], val_fraction=0.01)
    dm.setup()
    images, idx = dm.data.images, dm.splits["train"]
    name = {"Autoencoder": "ae", "VariationalAutoencoder": "vae"}[regime["model"]]
    model = MODELS.get(name)(dm.input_shape, regime["latent_dim"], encoder=regime["encoder"],
                             net_options=regime["net_options"])
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    bs, step, total = regime["batch_size"], 0, regime["warmup"] + regime["steps"]
    start = 0.0
    while step < total:
        order = idx[torch.randperm(len(idx))]
        for b in range(0, len(order), bs):
            if step == regime["warmup"]:
                start = time.perf_counter()
            x = images[order[b : b + bs]].float().div_(255)
            loss = model(x).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step == total:
                break
    return regime["steps"] / (time.perf_counter() - start)


def matmul_flops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def train_step_flops(regime: dict) -> float:
    """FLOPs of one training step (forward + backward) counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    from autoenc.models import MODELS

    name = {"Autoencoder": "ae", "VariationalAutoencoder": "vae"}[regime["model"]]
    shape = (1, 28, 28) if regime["source"] == "bench_random28" else (1, 8, 8)
    model = MODELS.get(name)(shape, regime["latent_dim"], encoder=regime["encoder"], net_options=regime["net_options"])
    x = torch.rand(regime["batch_size"], *shape)
    with FlopCounterMode(display=False) as counter:
        model(x).loss.backward()
    return counter.get_total_flops()


def main() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--regime", choices=sorted(REGIMES), required=True)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    regime = REGIMES[args.regime]
    hand, ours = [], []
    with tempfile.TemporaryDirectory() as runs:
        for _ in range(args.repeats):
            hand.append(hand_steps_per_s(regime))
            ours.append(autoenc_steps_per_s(regime, runs))
    h, o = statistics.median(hand), statistics.median(ours)
    print(f"machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}")
    print(f"hand loop steps/s: {[round(v, 1) for v in hand]} median {h:.1f}")
    print(f"autoenc   steps/s: {[round(v, 1) for v in ours]} median {o:.1f}")
    print(f"ratio (hand / autoenc time per step is autoenc / hand): {h / o:.3f}x")
    if args.regime == "conv_mnist":
        peak = matmul_flops()
        flops = train_step_flops(regime)
        print(f"matmul peak {peak / 1e9:.1f} GFLOP/s; train step {flops / 1e9:.3f} GFLOP; "
              f"autoenc {o * flops / 1e9:.1f} GFLOP/s = {o * flops / peak:.1%} of matmul peak")


if __name__ == "__main__":
    main()
