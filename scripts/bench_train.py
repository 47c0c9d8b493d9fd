"""Training time of `autoenc fit` vs the same model in an eager hand-written PyTorch loop.

Both sides run in this process, interleaved round by round, on the same in-memory uint8
data, split, batch size, epochs and model class. The hand loop is the floor the issue names:
index a uint8 tensor, ``/255``, forward, backward, ``torch.optim.Adam`` with its defaults
(lr 1e-3), no validation. The autoenc side is the real path: AutoencCLI builds data module,
model and Trainer from a config (checkpointing, CSV logging, the image and non-finite-loss
callbacks, validation every epoch; progress bar off), timed from the first to the last
training batch (compilation, validation and checkpoint saves included). Each *lever*
is one autoenc variant (see LEVERS). After training, both models are scored with the same
function on the same validation images (mean loss, nats/image, fixed seed), so the ratio is
at the same quality or says it is not.

    python scripts/bench_train.py --regime mlp_vae_mnist --levers eager default --epochs 3
    python scripts/bench_train.py --regime conv_vae_mnist --device cuda --levers default bf16 compiled

Ratio = autoenc time / hand time (< 1 is faster than the hand loop; 0.8 = 1.25x faster).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

MNIST_ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"

#: Model and data of each regime. MNIST regimes: the 10,000 real MNIST test images split
#: 9,000 train / 1,000 validation.
REGIMES: dict[str, dict[str, Any]] = {
    "mlp_vae_mnist": dict(model="VariationalAutoencoder", encoder="mlp", net_options={"hidden": [512, 256]},
                          latent_dim=16, batch_size=128, data="mnist", epochs=3),
    "conv_vae_mnist": dict(model="VariationalAutoencoder", encoder="conv", net_options={"widths": [32, 64]},
                           latent_dim=16, batch_size=128, data="mnist", epochs=2),
    "mlp_digits": dict(model="VariationalAutoencoder", encoder="mlp", net_options={"hidden": [256, 128]},
                       latent_dim=10, batch_size=64, data="digits", epochs=20),
}

#: autoenc variants: extra model init_args, trainer options and optimiser. ``eager`` is
#: autoenc with every lever off (plain Adam, contiguous weights): Lightning's own cost.
LEVERS: dict[str, dict[str, Any]] = {
    "eager": dict(model={"channels_last": False}, optimizer={"class_path": "torch.optim.Adam",
                                                             "init_args": {"lr": 1e-3, "fused": False}}),
    "default": {},
    "no_channels_last": dict(model={"channels_last": False}),
    "compiled": dict(model={"compile": True}),
    "bf16": dict(trainer={"precision": "bf16-mixed"}),
    "bf16_compiled": dict(model={"compile": True}, trainer={"precision": "bf16-mixed"}),
    "no_checkpointing": dict(trainer={"enable_checkpointing": False}),
    "no_callbacks": dict(trainer={"callbacks": []}),
}


#: Above this 1-minute load average per core a timing is marked noisy: other programs then
#: compete for the cores, and fixed per-epoch costs hide in their noise.
NOISY_LOAD_PER_CORE = 1.0


@dataclass
class Timing:
    """One training run: wall seconds, CPU seconds of this process (less sensitive than wall
    time to other programs on a shared machine), validation loss (nats/image), and the
    1-minute load average before and after the run."""

    wall: float
    cpu: float
    val_loss: float
    load_before: float = float("nan")
    load_after: float = float("nan")

    @property
    def noisy(self) -> bool:
        """Taken on a busy machine: more than one unit of load per core before or after."""
        return max(self.load_before, self.load_after) > NOISY_LOAD_PER_CORE * (os.cpu_count() or 1)


def load_average() -> float:
    """The 1-minute load average (runnable processes; nan where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def data_config(regime: dict[str, Any], cli: bool = True) -> dict[str, Any]:
    """The data module's options: as the CLI takes them (``cli``) or as Python objects."""
    source: Any = regime["data"]
    if source == "mnist":
        init = {"root": str(MNIST_ROOT.resolve()), "split": "test"}
        if cli:
            source = {"class_path": "MNIST", "init_args": init}
        else:
            from autoenc.data.idx import MNIST

            source = MNIST(**init)
    return {"source": source, "batch_size": regime["batch_size"], "val_fraction": 0.1,
            "subset": regime.get("subset")}


def model_kwargs(regime: dict[str, Any]) -> dict[str, Any]:
    from autoenc.nets import net_options

    net = net_options(regime["encoder"], regime["net_options"])
    return {"latent_dim": regime["latent_dim"], "net": net.config()}


def val_loss(model: torch.nn.Module, images: torch.Tensor, device: torch.device, batch: int = 500) -> float:
    """Mean loss (nats/image) over ``images`` (uint8, N x C x H x W), eval mode, seed 0."""
    model.eval()
    torch.manual_seed(0)
    total = 0.0
    with torch.no_grad():
        for b in range(0, len(images), batch):
            x = images[b : b + batch].to(device).float().div_(255)
            total += float(model(x).loss) * len(x)
    return total / len(images)


def autoenc_run(regime: dict[str, Any], lever: str, epochs: int, runs_dir: str, device: str) -> Timing:
    """Time from the first to the last training batch, and validation loss, of one ``autoenc fit``."""
    import lightning as L

    from autoenc.training.cli import AutoencCLI

    spans: dict[str, float] = {}

    class Timer(L.Callback):
        def on_train_start(self, trainer, pl_module):
            if device == "cuda":
                torch.cuda.synchronize()
            spans["start"], spans["cpu_start"] = time.perf_counter(), time.process_time()

        def on_train_end(self, trainer, pl_module):
            if device == "cuda":
                torch.cuda.synchronize()
            spans["end"], spans["cpu_end"] = time.perf_counter(), time.process_time()

    spec = LEVERS[lever]
    trainer = {"max_epochs": epochs, "enable_progress_bar": False, "num_sanity_val_steps": 0,
               "accelerator": device, "devices": 1, **spec.get("trainer", {})}
    callbacks = trainer.pop("callbacks", None)
    args = {"name": f"bench_{lever}", "runs_dir": runs_dir, "seed_everything": 0, "data": data_config(regime),
            "model": {"class_path": regime["model"], "init_args": model_kwargs(regime) | spec.get("model", {})},
            "trainer": trainer}
    if "optimizer" in spec:
        args["optimizer"] = spec["optimizer"]

    class BenchCLI(AutoencCLI):
        """The real ``autoenc fit`` (run directory, checkpoints, CSV log, callbacks, epoch
        lines), with the timer added just before training starts."""

        def before_fit(self) -> None:
            if callbacks is not None:  # drop the default callbacks, keep the checkpointing ones
                self.trainer.callbacks = [c for c in self.trainer.callbacks
                                          if isinstance(c, L.pytorch.callbacks.ModelCheckpoint)]
            self.trainer.callbacks.append(Timer())

    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # the epoch lines
        cli = BenchCLI(args={"subcommand": "fit", "fit": args})
    dm = cli.datamodule
    loss = val_loss(cli.model, dm.data.images[dm.splits["val"]], cli.model.device)
    return Timing(spans["end"] - spans["start"], spans["cpu_end"] - spans["cpu_start"], loss)


def hand_run(regime: dict[str, Any], epochs: int, device: str) -> Timing:
    """(seconds, validation loss) of the eager hand-written loop with torch.optim.Adam defaults."""
    from autoenc.data.module import ImageDataModule
    from autoenc.models import MODELS

    dm = ImageDataModule(**data_config(regime, cli=False))
    dm.setup()
    dev = torch.device(device)
    images = dm.data.images.to(dev)
    train, val = dm.splits["train"].to(dev), dm.splits["val"].to(dev)
    torch.manual_seed(0)
    name = {"Autoencoder": "ae", "VariationalAutoencoder": "vae"}[regime["model"]]
    model = MODELS.get(name)(dm.input_shape, **model_kwargs(regime)).to(dev)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    bs = regime["batch_size"]
    _sync(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = train[torch.randperm(len(train), device=dev)]
        for b in range(0, len(order), bs):
            x = images[order[b : b + bs]].float().div_(255)
            loss = model(x).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _sync(device)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Timing(wall, cpu, val_loss(model, images[val], dev))


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def profile_hand_step(regime: dict[str, Any], steps: int = 10, rows: int = 12) -> str:
    """torch.profiler table (self CPU time) of ``steps`` eager hand-loop training steps."""
    from torch.profiler import ProfilerActivity, profile

    from autoenc.models import MODELS

    shape = (1, 28, 28) if regime["data"] == "mnist" else (1, 8, 8)
    torch.manual_seed(0)
    model = MODELS.get("vae")(shape, **model_kwargs(regime)).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(regime["batch_size"], *shape)

    def step() -> None:
        loss = model(x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


#: Where the CPU time of an autoenc run goes: part -> (file suffix, function name) pairs whose
#: cumulative CPU time cProfile reports (a part includes what it calls). The training loop's
#: own cost (Lightning's per-step hooks, logger connector, progress tracking) is what its
#: ``run`` takes beyond the steps, the validation loop and the batch fetches.
PROFILE_PARTS: dict[str, list[tuple[str, str]]] = {
    "training steps (forward, backward, Adam; logging every 10 steps)": [("loops/optimization/automatic.py", "run")],
    "self.log / log_dict calls (training steps and validation)": [("pytorch/core/module.py", "log_dict")],
    "validation loop (forward, metrics)": [("loops/evaluation_loop.py", "run")],
    "checkpoint writes (best + last.ckpt)": [("callbacks/model_checkpoint.py", "on_train_epoch_end"),
                                             ("callbacks/model_checkpoint.py", "on_validation_end")],
    "reconstruction grid": [("autoenc/training/callbacks.py", "on_validation_epoch_end")],
    "CSV logging (log_metrics + save)": [("loggers/csv_logs.py", "log_metrics"), ("loggers/csv_logs.py", "save")],
    "epoch line (EpochSummary)": [("autoenc/training/callbacks.py", "on_train_epoch_end")],
    "batch fetch (dataloader)": [("loops/fetchers.py", "__next__")],
    "training epoch loop (all of the above but checkpoints)": [("loops/training_epoch_loop.py", "run")],
    "trainer.fit (everything from the first hook to the end)": [("trainer/trainer.py", "_run_stage")],
}


def parts_table(stats: Any, title: str, epochs: int) -> str:
    """Markdown table of :data:`PROFILE_PARTS` from ``pstats.Stats``: CPU s and ms per epoch."""
    cumulative: dict[tuple[str, str], float] = {}
    for (file, _, func), (_, _, _, ct, _) in stats.stats.items():
        for pairs in PROFILE_PARTS.values():
            for suffix, name in pairs:
                if func == name and file.replace(os.sep, "/").endswith(suffix):
                    cumulative[(suffix, name)] = cumulative.get((suffix, name), 0.0) + ct
    totals = {part: sum(cumulative.get(pair, 0.0) for pair in pairs) for part, pairs in PROFILE_PARTS.items()}
    loop = totals["training epoch loop (all of the above but checkpoints)"]
    rest = loop - sum(totals[k] for k in list(PROFILE_PARTS)[:1] + ["validation loop (forward, metrics)",
                                                                     "batch fetch (dataloader)"])
    lines = [f"| part ({title}) | cpu s | ms per epoch |", "| --- | ---: | ---: |"]
    for part, total in [*totals.items(), ("  rest of the epoch loop (Lightning's per-step hooks, bookkeeping)", rest)]:
        lines.append(f"| {part} | {total:.3f} | {1000 * total / epochs:.1f} |")
    return "\n".join(lines)


def profile_autoenc_run(regime: dict[str, Any], lever: str, epochs: int, device: str, rows: int = 25) -> str:
    """cProfile (timer: this process's CPU time) of one ``autoenc fit`` run after a warm-up
    run (imports): the CPU seconds of each part of :data:`PROFILE_PARTS`, per epoch, and the
    top functions by own time. cProfile's own overhead inflates Python-heavy parts (2-3x):
    read the table for proportions; the bench's timings are unprofiled."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile(time.process_time)
    with tempfile.TemporaryDirectory() as runs:
        autoenc_run(regime, lever, 1, runs, device)  # imports and first-use costs out of the profile
        prof.enable()
        autoenc_run(regime, lever, epochs, runs, device)
        prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(rows)
    return parts_table(stats, f"{lever}, {epochs} epochs", epochs) + "\n\n" + out.getvalue()


def main() -> None:
    global MNIST_ROOT
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--regime", choices=sorted(REGIMES), required=True)
    p.add_argument("--levers", nargs="+", choices=sorted(LEVERS), default=["eager", "default"])
    p.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the regime's)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds; medians are reported")
    p.add_argument("--threads", type=int, default=1, help="torch threads for both sides")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--subset", type=int, default=None, help="use only this many images (dry runs)")
    p.add_argument("--mnist-root", type=Path, default=MNIST_ROOT,
                   help="folder holding MNIST/raw/t10k-* (default: the shared/data/mnist beside the checkout)")
    p.add_argument("--profile", action="store_true", help="print torch.profiler's top rows of the hand step")
    p.add_argument("--cprofile", action="store_true",
                   help="print where the CPU time of one autoenc run (the first lever) goes, per epoch (cProfile)")
    args = p.parse_args()
    MNIST_ROOT = args.mnist_root
    torch.set_num_threads(args.threads)
    regime = dict(REGIMES[args.regime])
    epochs = args.epochs or regime["epochs"]
    if args.subset:
        regime["subset"] = args.subset
    if args.profile:
        print(profile_hand_step(regime))
    if args.cprofile:
        print(profile_autoenc_run(regime, args.levers[0], epochs, args.device))
    if args.rounds < 1:
        return
    runs_by: dict[str, list[Timing]] = {"hand": [], **{lever: [] for lever in args.levers}}
    with tempfile.TemporaryDirectory() as runs:
        for r in range(args.rounds):
            order = ["hand", *args.levers] if r % 2 == 0 else [*args.levers[::-1], "hand"]
            for who in order:
                before = load_average()
                t = hand_run(regime, epochs, args.device) if who == "hand" else \
                    autoenc_run(regime, who, epochs, runs, args.device)
                t.load_before, t.load_after = before, load_average()
                runs_by[who].append(t)
                print(f"round {r} {who:16s} wall {t.wall:7.2f} s  cpu {t.cpu:7.2f} s  val loss {t.val_loss:.3f}  "
                      f"load {t.load_before:.2f} -> {t.load_after:.2f}{'  NOISY' if t.noisy else ''}", flush=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"regime {args.regime}: {epochs} epochs, {args.rounds} rounds; medians")
    print(report_table(runs_by, args.device))
    noisy = sum(t.noisy for ts in runs_by.values() for t in ts)
    if noisy:
        print(f"NOISY: {noisy} of {sum(map(len, runs_by.values()))} runs were taken above "
              f"{NOISY_LOAD_PER_CORE:g} unit of load per core ({os.cpu_count()} cores); rerun on a quiet machine")


def report_table(runs_by: dict[str, list[Timing]], device: str) -> str:
    """Markdown table of medians; ratio = variant time / hand time (CPU time on CPU, where
    other programs make wall time swing; wall time on a GPU)."""
    def med(who: str, key: str) -> float:
        return statistics.median(getattr(t, key) for t in runs_by[who])

    key = "cpu" if device == "cpu" else "wall"
    lines = [f"| variant | wall s | cpu s | ratio ({key}) | speed-up | val loss | vs hand | load (min-max) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for who in runs_by:
        ratio = med(who, key) / med("hand", key)
        loss, hand_loss = med(who, "val_loss"), med("hand", "val_loss")
        lines.append(f"| {who} | {med(who, 'wall'):.2f} | {med(who, 'cpu'):.2f} | {ratio:.3f} | {1 / ratio:.2f}x | "
                     f"{loss:.2f} | {(loss - hand_loss) / hand_loss:+.2%} | {_load_span(runs_by[who])} |")
    return "\n".join(lines)


def _load_span(timings: list[Timing]) -> str:
    """``min-max`` of the load averages around the runs, ``(noisy)`` when any run was."""
    loads = [v for t in timings for v in (t.load_before, t.load_after)]
    span = f"{min(loads):.1f}-{max(loads):.1f}"
    return span + (" (noisy)" if any(t.noisy for t in timings) else "")


if __name__ == "__main__":
    main()
