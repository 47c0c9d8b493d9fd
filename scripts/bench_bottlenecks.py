"""Flat vs spatial vs sparse TopK bottlenecks at equal code size on MNIST -> docs/bottlenecks.md.

Each kind is the same conv autoencoder (``--widths``) with a code of ``--code`` numbers:

* ``flat``: ``Autoencoder(latent_dim=code)``, the conv net's linear bottleneck;
* ``spatial``: ``Autoencoder(latent_channels=C)`` with C * h * w = code (h x w set by the
  net's stride-2 stages; 28 -> 7 with two, so 49 numbers are 1 channel x 7 x 7): the same
  conv stages, the linear bottleneck replaced by a 1x1 squeeze / 1x1 expansion;
* ``topk``: ``TopKAutoencoder(latent_dim=code, k=--k)`` with AuxK, the same net.

Every model is trained with a plain PyTorch loop (``model.training_output``, Adam, one torch
thread) for ``--steps`` batches of ``--batch`` images of the first ``--train`` images of the
split, for each seed in ``--seeds``; then measured on the held-out images: validation
reconstruction NLL (nats per image, the ``recon`` term), linear-probe accuracy on the codes
(standardised multinomial logistic regression fitted on the training codes,
:func:`autoenc.features.probes.linear_probe`), TwoNN intrinsic dimension of the validation
codes, parameters, and training steps/s (wall clock of the timed loop, after ``--warmup``
steps). A traversal picture of each kind (seed 0) is written next to the document.

Speed targets (issue 19 item 6): spatial >= 0.9x the flat conv model's steps/s; a TopK step
<= 1.2x a plain (flat) autoencoder step. Measured apart from training, with fresh models
stepping in turn on the same batches (median CPU time of the process per step, one torch
thread), because on a shared machine the load drifts between the training runs (their
steps/s column is the wall clock each run saw) and wall time counts other processes' turns.

    cd autoenc && nice .venv/bin/python scripts/bench_bottlenecks.py \\
        --data.source mnist --data.source.init_args.root ../shared/data/mnist \\
        --data.source.init_args.download false --data.source.init_args.split test

(the defaults take about 2 min on 2 quiet CPU cores, about 6 min at load average 17;
``--steps 40 --no-doc`` is a smoke test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bottlenecks.md"
FIGURES = ROOT / "docs" / "figures" / "bottlenecks"


@dataclass
class Result:
    kind: str
    seed: int
    val_nats: float
    probe_accuracy: float
    twonn: float
    parameters: int
    steps_per_s: float
    latent_shape: tuple[int, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def build(kind: str, shape: tuple[int, int, int], code: int, k: int, widths: list[int], seed: int) -> Any:
    """The model of ``kind`` with a code of ``code`` numbers (legacy net keywords, which the
    typed-net models still read)."""
    from autoenc.models import Autoencoder, TopKAutoencoder

    net = {"encoder": "conv", "net_options": {"widths": widths}, "channels_last": False}
    torch.manual_seed(seed)
    if kind == "flat":
        return Autoencoder(shape, latent_dim=code, **net)
    if kind == "topk":
        return TopKAutoencoder(shape, latent_dim=code, k=k, aux_k=2 * k, dead_after=4096, **net)
    _, h, w = Autoencoder(shape, latent_channels=1, **net).latent_shape  # h x w: the net's, not assumed here
    channels = code // (h * w)
    if channels < 1 or channels * h * w != code:
        raise SystemExit(f"--code {code} is not C * {h} * {w} for the spatial model; use a multiple of {h * w}")
    torch.manual_seed(seed)
    return Autoencoder(shape, latent_channels=channels, **net)


def train(model: Any, images: torch.Tensor, steps: int, warmup: int, batch: int, lr: float,
          seed: int) -> float:
    """Adam on ``training_output(x).loss``; returns timed training steps per second."""
    from autoenc.models.autoencoder_module import fast_adam

    optimizer = fast_adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    started = None
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        idx = torch.randint(0, len(images), (batch,), generator=g)
        loss = model.training_output(images[idx].float().div_(255)).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    return steps / (time.perf_counter() - started)


def measure(kind: str, model: Any, train_images: torch.Tensor, train_y: np.ndarray, val_images: torch.Tensor,
            val_y: np.ndarray, seed: int, steps_per_s: float) -> Result:
    from autoenc.features.probes import linear_probe
    from autoenc.measure.codes import encode_all
    from autoenc.measure.intrinsic_dim import estimate_all
    from autoenc.measure.summary import evaluate_terms
    from autoenc.models.autoencoder_module import count_parameters

    val_codes = encode_all(model, val_images)
    train_codes = encode_all(model, train_images)
    probe = linear_probe(seed=seed, max_iter=500).fit(train_codes.numpy(), train_y)
    accuracy = float((probe.predict(val_codes.numpy()) == val_y).mean())
    (twonn,) = estimate_all(val_codes.double().numpy(), ["twonn"], repeats=0, seed=seed)
    terms = evaluate_terms(model, val_images, seed)
    extra = {}
    if model.sparse_code:
        extra["non-zeros per code (mean)"] = float((val_codes != 0).sum(1).float().mean())
        extra["units never firing on val"] = int(((val_codes != 0).sum(0) == 0).sum())
    return Result(kind, seed, terms["recon"], accuracy, float(twonn.value), count_parameters(model), steps_per_s,
                  tuple(model.latent_shape), extra)


def traversal_picture(model: Any, val_images: torch.Tensor, path: Path) -> None:
    from autoenc.measure.codes import latent_stats
    from autoenc.measure.traversal import traverse
    from autoenc.render.look_figures import traversal_figure
    from autoenc.render.pictures import Picture, write_pictures

    stats = latent_stats(model, val_images[:1000])
    grid = traverse(model, stats, stats.codes[:1], ["image 0"], steps=7, top=8)
    write_pictures([Picture(path.name, traversal_figure(grid))], path.parent)


def load(args: argparse.Namespace) -> tuple[torch.Tensor, np.ndarray, torch.Tensor, np.ndarray]:
    from autoenc.data.module import ImageDataModule

    source: Any = args.source
    if args.root is not None or args.download is not None or args.split is not None:
        init = {"root": args.root or "data", "download": args.download != "false"}
        if args.split is not None:
            init["split"] = args.split
        source = {"name": args.source, "options": init}
    dm = ImageDataModule(source=source, val_fraction=args.val_fraction, seed=0)
    dm.prepare_data()
    dm.setup("fit")
    train, val = dm.arrays("train"), dm.arrays("val")
    n = min(args.train, len(train.images))
    return (train.images[:n].cpu(), train.targets[:n].numpy(), val.images.cpu(), val.targets.numpy())


def interleaved_step_times(models: dict[str, Any], images: torch.Tensor, batch: int, rounds: int,
                           seed: int = 0) -> dict[str, float]:
    """Median CPU seconds (``time.process_time``) per training step of each model, the models
    stepping in turn on the same batch (A, B, C, A, B, C ...), so load changes on a shared
    machine hit all of them alike; CPU time rather than wall time, so another process's turn on
    the core is not counted as this step's (one torch thread: the step runs on this thread)."""
    from autoenc.models.autoencoder_module import fast_adam

    optimizers = {kind: fast_adam(m.train().parameters(), lr=1e-3) for kind, m in models.items()}
    times: dict[str, list[float]] = {kind: [] for kind in models}
    g = torch.Generator().manual_seed(seed)
    for r in range(rounds + 3):  # 3 untimed rounds first
        x = images[torch.randint(0, len(images), (batch,), generator=g)].float().div_(255)
        for kind, model in models.items():
            started = time.process_time()
            loss = model.training_output(x).loss
            optimizers[kind].zero_grad(set_to_none=True)
            loss.backward()
            optimizers[kind].step()
            if r >= 3:
                times[kind].append(time.process_time() - started)
    return {kind: statistics.median(t) for kind, t in times.items()}


def speed_lines(step_s: dict[str, float], rounds: int, load: tuple[float, float]) -> list[str]:
    lines = [f"Median CPU time per training step (one torch thread), {rounds} steps of each model taken in turn "
             "on the same batches: " + ", ".join(f"{kind} {1000 * t:.1f} ms" for kind, t in step_s.items())
             + f"; 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after.", ""]
    flat, spatial, topk = step_s.get("flat"), step_s.get("spatial"), step_s.get("topk")
    if flat and topk:
        ratio = topk / flat
        lines.append(f"- TopK step / plain AE step: **{ratio:.2f}x** (target <= 1.2x: "
                     f"{'met' if ratio <= 1.2 else 'NOT met'})")
    if flat and spatial:
        ratio = flat / spatial
        lines.append(f"- spatial steps/s / flat conv steps/s: **{ratio:.2f}x** (target >= 0.9x: "
                     f"{'met' if ratio >= 0.9 else 'NOT met'})")
    return lines


def block_cost_lines() -> list[str]:
    """The textbook reason for the ResNet bottleneck block, counted from the project's own
    modules (:func:`autoenc.nets.cost.bottleneck_vs_plain`)."""
    from autoenc.nets.cost import bottleneck_vs_plain

    costs = bottleneck_vs_plain()
    block, plain = costs["bottleneck"], costs["two_3x3"]
    return ["## The ResNet bottleneck block vs two 3x3 convolutions (256 channels, 56 x 56)", "",
            "`python -c \"from autoenc.nets.cost import bottleneck_vs_plain; print(bottleneck_vs_plain())\"`: "
            "the 1x1 (256 -> 64), 3x3 (64 -> 64), 1x1 (64 -> 256) block of `autoenc.nets.resnet` against two "
            "3x3 conv blocks at 256 channels (`autoenc.nets.layers.conv_block`), batch norm included.", "",
            "| block | parameters | multiply-adds per image |", "| --- | ---: | ---: |",
            f"| bottleneck 256-64-64-256 | {block.params:,} | {block.macs:,} |",
            f"| two 3x3 at 256 | {plain.params:,} | {plain.macs:,} |",
            f"| ratio | {plain.params / block.params:.1f}x fewer | {plain.macs / block.macs:.1f}x fewer |", ""]


def write_doc(results: list[Result], args: argparse.Namespace, command: str, seconds: float,
              pictures: dict[str, str], speed: list[str]) -> str:
    kinds = list(dict.fromkeys(r.kind for r in results))
    rows = []
    for kind in kinds:
        rs = [r for r in results if r.kind == kind]

        def cell(values: list[float], fmt: str) -> str:
            mean = statistics.mean(values)
            spread = f" ± {statistics.stdev(values):{fmt}}" if len(values) > 1 else ""
            return f"{mean:{fmt}}{spread}"

        shape = " x ".join(map(str, rs[0].latent_shape))
        rows.append(f"| {kind} | {shape} | {cell([r.val_nats for r in rs], '.2f')} | "
                    f"{cell([100 * r.probe_accuracy for r in rs], '.1f')} | {cell([r.twonn for r in rs], '.1f')} | "
                    f"{rs[0].parameters:,} | {cell([r.steps_per_s for r in rs], '.2f')} |")
    extras = [f"- {r.kind} seed {r.seed}: " + ", ".join(f"{k} {v:.3g}" for k, v in r.extra.items())
              for r in results if r.extra]
    lines = [
        "# Bottlenecks: flat vs spatial vs sparse TopK at equal code size",
        "",
        f"Measured by `scripts/bench_bottlenecks.py` on {dt.date.today().isoformat()} ({platform.machine()}, "
        f"{os.cpu_count()} cores, 1 torch thread, load average {os.getloadavg()[0]:.1f} at the end; "
        f"{seconds / 60:.1f} min in all):",
        "",
        f"    {command}",
        "",
        f"Same conv net (widths {args.widths}), code of {args.code} numbers; TopK keeps k = {args.k} of them per "
        f"image (AuxK with aux_k = {2 * args.k}). {args.steps} Adam steps (lr {args.lr}) of {args.batch} images "
        f"drawn from the first {args.train} training images; measured on the {args.val_fraction:.0%} held-out "
        f"split. Mean ± standard deviation over seeds {args.seeds}. Short training: the numbers rank the "
        "bottlenecks at equal budget, they are not converged values.",
        "",
        "| kind | code shape | val recon (nats/image) | linear probe accuracy (%) | TwoNN ID of codes | "
        "parameters | training steps/s (wall clock) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "## Speed targets (issue 19 item 6)",
        "",
        *speed,
        "",
    ]
    if extras:
        lines += ["## Sparsity", "", *extras, ""]
    lines += block_cost_lines()
    lines += ["## Traversals (seed 0, the 8 most varying units of image 0's code)", ""]
    if any(len(r.latent_shape) == 3 for r in results):
        lines += ["A spatial code's unit `zi` is one position of one channel of the (C, h, w) code: channel "
                  "`i // (h * w)`, row `i % (h * w) // w`, column `i % w` (on 1 x 7 x 7, `z23` is row 3, column 2).",
                  ""]
    lines += [f"### {kind}\n\n![{kind} traversal]({path})\n" for kind, path in pictures.items()]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data.source", dest="source", default="mnist")
    p.add_argument("--data.source.init_args.root", dest="root", default=None)
    p.add_argument("--data.source.init_args.download", dest="download", default=None, choices=["true", "false"])
    p.add_argument("--data.source.init_args.split", dest="split", default=None,
                   help="e.g. test: only the 10,000 test images (what ../shared/data/mnist holds)")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--kinds", nargs="+", default=["flat", "spatial", "topk"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--code", type=int, default=49, help="numbers per code (spatial: C * 7 * 7 on MNIST)")
    p.add_argument("--k", type=int, default=10, help="TopK non-zeros per code")
    p.add_argument("--widths", nargs="+", type=int, default=[16, 32])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--train", type=int, default=4000, help="training images used (probe and steps)")
    p.add_argument("--speed-rounds", type=int, default=60, help="interleaved timed steps per model")
    p.add_argument("--no-doc", action="store_true", help="print only; leave docs/bottlenecks.md alone")
    args = p.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    train_x, train_y, val_x, val_y = load(args)
    shape = tuple(int(s) for s in train_x.shape[1:])
    kinds = list(args.kinds)
    results, pictures = [], {}
    for seed in args.seeds:
        for kind in kinds:
            model = build(kind, shape, args.code, args.k, args.widths, seed)
            rate = train(model, train_x, args.steps, args.warmup, args.batch, args.lr, seed)
            r = measure(kind, model, train_x, train_y, val_x, val_y, seed, rate)
            results.append(r)
            print(f"{kind} seed {seed}: val {r.val_nats:.2f} nats/image, probe {100 * r.probe_accuracy:.1f}%, "
                  f"TwoNN {r.twonn:.1f}, {r.parameters:,} params, {r.steps_per_s:.2f} steps/s {r.extra}", flush=True)
            if seed == args.seeds[0] and not args.no_doc:
                path = FIGURES / f"traversal_{kind}.png"
                traversal_picture(model, val_x, path)
                pictures[kind] = os.path.relpath(path, DOC.parent)
    models = {kind: build(kind, shape, args.code, args.k, args.widths, 0) for kind in kinds}
    load_before = os.getloadavg()[0]
    step_s = interleaved_step_times(models, train_x, args.batch, args.speed_rounds)
    speed = speed_lines(step_s, args.speed_rounds, (load_before, os.getloadavg()[0]))
    for line in speed:
        print(line)
    if not args.no_doc:
        command = "nice .venv/bin/python scripts/bench_bottlenecks.py " + " ".join(
            a if " " not in a else repr(a) for a in sys.argv[1:])
        from autoenc.core.atomic import atomic_file

        text = write_doc(results, args, command, time.perf_counter() - started, pictures, speed)
        with atomic_file(DOC, mode="w") as f:
            f.write(text + "\n")
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
