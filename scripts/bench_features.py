"""Feature benchmarks: cached probes vs re-encoding, encoder throughput vs matmul peak, cache reads.

1. A linear probe (the same ``nn.Linear`` + Adam, 20 epochs, same batches) trained from a feature
   cache vs the same probe fed by re-encoding the images with the frozen encoder every epoch.
2. Encode throughput (images/s) of the conv encoder on 28x28 grey and 64x64 RGB images, turned
   into FLOP/s with ``torch.utils.flop_counter.FlopCounterMode`` and compared with the machine's
   float32 matmul FLOP/s; variants: eager NCHW, larger batches, channels_last, FX conv-BN fusion
   (``optimize_for_inference``), ``torch.compile``; and ``extract_features`` end to end.
3. Reading a memory-mapped ``features.npy`` (GB/s), next to summing the same array in memory.
4. ``autoenc.retrain``: the whole call on 10,000 cached features (MNIST test set, 28 x 28), and
   its training loop fed from the cache vs by re-encoding the training images every epoch (what
   distortions cost); written to its own section, ``## Features: retrain``.

    python scripts/bench_features.py                 # writes the ## Features section of docs/benchmarks.md
    python scripts/bench_features.py --retrain-only  # only part 4 and its section
    python scripts/bench_features.py --quick --no-write
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _bench_doc import write_section  # noqa: E402  (scripts/ is on sys.path)
from torch import nn

from autoenc.data import ImageDataModule
from autoenc.data.transforms import to_float
from autoenc.features import extract_features, load_encoder
from autoenc.features.encoders import FrozenEncoder
from autoenc.models import Autoencoder

SECTION = "## Features"
RETRAIN_SECTION = "## Features: retrain"
#: The MNIST test set kept beside the repository in the project's workspace (see tests/conftest.py).
MNIST_ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_flops(size: int = 4096, repeats: int = 5) -> float:
    """Best float32 FLOP/s of a square torch matmul (the machine's practical peak)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    return 2 * size**3 / best_time(lambda: a @ b, repeats)


def conv_encoder(shape: tuple[int, int, int], latent_dim: int = 32, seed: int = 0) -> FrozenEncoder:
    """The default conv encoder (widths 32, 64, 128, batch norm, ReLU), seeded, frozen."""
    torch.manual_seed(seed)
    model = Autoencoder(shape, latent_dim=latent_dim, encoder="conv")
    return load_encoder(model)


def flops_per_image(net: nn.Module, shape: tuple[int, int, int]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        net(torch.rand(1, *shape))
    return int(counter.get_total_flops())


# -- 1. probe from the cache vs re-encoding --------------------------------------------------
def train_probe(batches: Callable[[torch.Tensor], Any], n: int, dim: int, n_classes: int, epochs: int,
                batch_size: int, seed: int = 0) -> tuple[nn.Linear, float]:
    """20 epochs of Adam on a linear layer; ``batches(idx)`` -> (features (b, D), labels (b,))."""
    torch.manual_seed(seed)
    probe = nn.Linear(dim, n_classes)
    optimizer = torch.optim.Adam(probe.parameters(), lr=1e-2)
    order = torch.Generator().manual_seed(seed)
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=order)
        for start in range(0, n, batch_size):
            x, y = batches(perm[start : start + batch_size])
            loss = nn.functional.cross_entropy(probe(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return probe, float(loss.detach())


def bench_probe(workdir: Path, image_size: int, epochs: int, batch_size: int, repeats: int) -> dict[str, Any]:
    dm = ImageDataModule("digits", image_size=image_size, val_fraction=0.2, seed=0, num_workers=0)
    encoder = conv_encoder(dm.input_shape)
    start = time.perf_counter()
    cache = extract_features(encoder, dm, workdir / f"probe-cache-{image_size}", split="train", batch_size=256,
                             progress=False)
    build = time.perf_counter() - start
    train = dm.arrays("train")
    images, labels = train.images, train.targets
    n, dim = len(cache), cache.dim

    def from_cache() -> tuple[nn.Linear, float]:
        from autoenc.features import open_cache

        opened = open_cache(cache.path)
        feats = torch.from_numpy(np.ascontiguousarray(opened.features))  # one read of the whole cache
        targets = torch.from_numpy(opened.targets)
        return train_probe(lambda idx: (feats[idx], targets[idx]), n, dim, 10, epochs, batch_size)

    def reencode() -> tuple[nn.Linear, float]:
        def batches(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            with torch.no_grad():
                return encoder(to_float(images[idx])), labels[idx]

        return train_probe(batches, n, dim, 10, epochs, batch_size)

    from_cache()  # warm-up: the first optimiser step imports and initialises lazily
    t_cache, t_encode = float("inf"), float("inf")
    for _ in range(repeats):  # alternate, best of each
        s = time.perf_counter()
        probe_c, loss_c = from_cache()
        t_cache = min(t_cache, time.perf_counter() - s)
        s = time.perf_counter()
        probe_e, loss_e = reencode()
        t_encode = min(t_encode, time.perf_counter() - s)
    val = dm.arrays("val")
    with torch.no_grad():
        z = encoder(to_float(val.images))
        acc_c = float((probe_c(z).argmax(1) == val.targets).float().mean())
        acc_e = float((probe_e(z).argmax(1) == val.targets).float().mean())
    return {"size": image_size, "n": n, "dim": dim, "epochs": epochs, "batch": batch_size, "build": build,
            "cache": t_cache, "encode": t_encode, "loss_cache": loss_c, "loss_encode": loss_e, "acc_cache": acc_c,
            "acc_encode": acc_e}


# -- 4. retrain: the library's head training from the cache vs re-encoding -------------------
def retrain_data(root: Path) -> tuple[ImageDataModule, str]:
    """The MNIST test set (10,000 images, 28 x 28) under ``root`` when present, else digits resized to 28 x 28."""
    from autoenc.data.idx import MNIST

    if (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file():
        source, name = MNIST(root=str(root.resolve()), split="test"), "MNIST test set"
    else:
        source, name = "digits", "digits resized to 28 x 28"
    return ImageDataModule(source, image_size=28, val_fraction=0.1, seed=0, num_workers=0), name


def bench_retrain(workdir: Path, repeats: int, epochs: int, root: Path) -> dict[str, Any]:
    from autoenc.features.classifier import Head
    from autoenc.features.retrain import _fit, class_labels, retrain, split_items

    dm, name = retrain_data(root)
    encoder = conv_encoder((1, 28, 28))
    start = time.perf_counter()
    cache = extract_features(encoder, dm, workdir / "retrain-cache", split="all", progress=False)
    build = time.perf_counter() - start
    retrain(cache, epochs=2)  # warm-up
    whole, result = float("inf"), None
    for _ in range(repeats):
        s = time.perf_counter()
        result = retrain(cache)
        whole = min(whole, time.perf_counter() - s)
    y, names = class_labels(cache)
    train, val, _ = split_items(y, 0.2, 0.1, 0)
    x = torch.from_numpy(np.array(cache.features))
    images = dm.arrays("all").images[torch.from_numpy(train)]
    targets = torch.from_numpy(y)

    def reencode(epoch: int) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([encoder(to_float(images[i : i + 64])) for i in range(0, len(images), 64)])

    def fit(features: Callable[[int], torch.Tensor]) -> float:
        head = Head(cache.dim, len(names))
        head.mean.copy_(x[train].mean(0))
        head.std.copy_(x[train].std(0))
        s = time.perf_counter()
        _fit(head, features, targets[train], x[val], targets[val], epochs, epochs, 0.03, 1e-4, 1024, 0)
        return time.perf_counter() - s

    cached = x[train]
    t_cache, t_encode = float("inf"), float("inf")
    for _ in range(repeats):  # alternate, best of each
        t_cache = min(t_cache, fit(lambda epoch: cached))
        t_encode = min(t_encode, fit(reencode))
    return {"data": name, "n": len(cache), "dim": cache.dim, "n_train": len(train), "build": build,
            "whole": whole, "accuracy": result.accuracy, "ci": (result.ci_low, result.ci_high),
            "chance": result.chance, "epochs_run": result.epochs, "epochs": epochs, "cache": t_cache,
            "encode": t_encode}


def render_retrain(args: argparse.Namespace, r: dict[str, Any]) -> str:
    import os

    load = " / ".join(f"{x:.1f}" for x in args.load)
    ratio = r["encode"] / r["cache"]
    return "\n".join([
        RETRAIN_SECTION, "",
        f"Command: `.venv/bin/python scripts/bench_features.py {' '.join(a for a in args.argv if a != '--no-write')}`",
        "",
        f"Machine: {cpu_name()}, {torch.get_num_threads()} torch thread(s), no GPU; torch {torch.__version__}. "
        f"Load average (1 min) at start / end: {load} on {os.cpu_count()} cores (other jobs share them: "
        "absolute times are noisy; both sides alternate in one process, best of "
        f"{args.repeats}).", "",
        f"Data: {r['data']}, N = {r['n']:,}, frozen conv encoder (widths 32/64/128, seeded random weights), "
        f"D = {r['dim']}; cache built once in {r['build']:.2f} s.", "",
        "| measurement | time (s) | note |", "| --- | --- | --- |",
        f"| `autoenc.retrain(cache)` on {r['n']:,} cached features, defaults (softmax regression, batch 1024, "
        f"early stopping) | **{r['whole']:.2f}** | {r['epochs_run']} epochs; test accuracy {r['accuracy']:.4f} "
        f"(95% CI {r['ci'][0]:.4f}-{r['ci'][1]:.4f}), chance {r['chance']:.4f} |",
        f"| its training loop, {r['epochs']} epochs on {r['n_train']:,} training items, features from the cache "
        f"| {r['cache']:.3f} | |",
        f"| the same loop re-encoding the training images every epoch (what distortions cost) | {r['encode']:.3f} "
        f"| **{ratio:.0f}x** slower |", "",
        f"Targets: `retrain` on 10,000 cached features <= 5 s: {'met' if r['whole'] <= 5 else '**missed**'} "
        f"({r['whole']:.2f} s); cache vs re-encoding >= 50x at 28 x 28: "
        f"{'met' if ratio >= 50 else '**missed**'} ({ratio:.0f}x).", ""])


# -- 2. encode throughput -------------------------------------------------------------------
def _variants(encoder: FrozenEncoder) -> dict[str, tuple[nn.Module, bool]]:
    """name -> (module taking (B, C, H, W) floats, channels_last input?)."""
    import copy

    # The conv Encoder's layers without its input-shape check (control flow FX cannot trace).
    # FrozenEncoder already keeps conv weights channels_last; the baseline gets them back in NCHW.
    net = copy.deepcopy(nn.Sequential(*encoder.net.net.children())).eval().to(memory_format=torch.contiguous_format)
    out: dict[str, tuple[nn.Module, bool]] = {"eager NCHW": (net, False)}
    out["eager channels_last"] = (copy.deepcopy(net).to(memory_format=torch.channels_last), True)
    try:
        from torch.fx.experimental.optimization import optimize_for_inference

        out["FX conv-BN fusion + oneDNN layout (optimize_for_inference)"] = (
            optimize_for_inference(copy.deepcopy(net)), False)
    except Exception as err:  # noqa: BLE001 - report whatever fails
        print(f"optimize_for_inference failed: {err}", file=sys.stderr)
    return out


def beside_peak(measure: Callable[[], float]) -> tuple[float, float]:
    """(``measure()``, the matmul FLOP/s measured right before and after it, the larger): on a
    shared machine the available peak moves, so each figure is compared with its own."""
    before = matmul_flops(2048, 3)
    value = measure()
    return value, max(before, matmul_flops(2048, 3))


def throughput(module: nn.Module, images: torch.Tensor, batch: int, channels_last: bool, repeats: int) -> float:
    """Best images/s of ``module`` over ``images`` (float, already in memory) in batches."""
    x = images.contiguous(memory_format=torch.channels_last) if channels_last else images

    def run() -> None:
        with torch.inference_mode():
            for start in range(0, len(x), batch):
                module(x[start : start + batch])

    run()  # warm-up (allocations, oneDNN primitive caches)
    return len(x) / best_time(run, repeats)


def bench_throughput(shape: tuple[int, int, int], n: int, batches: list[int], repeats: int,
                     workdir: Path, try_compile: bool) -> dict[str, Any]:
    encoder = conv_encoder(shape)
    flops = flops_per_image(encoder, shape)
    images = torch.rand(n, *shape, generator=torch.Generator().manual_seed(0))
    rows: list[tuple[str, int, float, float]] = []
    variants = _variants(encoder)
    runs: list[tuple[str, int, Callable[[], float]]] = []
    for name, (module, cl) in variants.items():
        for batch in batches:
            runs.append((name, batch, lambda m=module, b=batch, c=cl: throughput(m, images, b, c, 1)))
    if try_compile:
        for batch in batches[1:]:
            try:
                compiled = torch.compile(variants["eager NCHW"][0], dynamic=False)
                throughput(compiled, images, batch, False, 1)  # compiles (offline: inductor + the system C++ compiler)
                runs.append(("torch.compile (inductor)", batch,
                             lambda m=compiled, b=batch: throughput(m, images, b, False, 1)))
            except Exception as err:  # noqa: BLE001 - offline / no compiler: say so
                rows.append((f"torch.compile failed: {type(err).__name__}: {str(err).splitlines()[0][:80]}",
                             batch, float("nan"), float("nan")))
    # end to end through the library: uint8 -> float, forward, memmap write, fingerprints, fsync
    from autoenc.data.source import ImageArrays

    arrays = ImageArrays((images * 255).round().to(torch.uint8), None, None, {"source": "bench"})

    def extract() -> float:
        start = time.perf_counter()
        extract_features(encoder, arrays, workdir / f"tp-{shape[1]}", batch_size=batches[1], overwrite=True,
                         progress=False)
        return n / (time.perf_counter() - start)

    runs.append(("extract_features (library: uint8 in, channels_last, cache out)", batches[1], extract))
    # Rounds over all variants, best of each: a burst of load from other jobs hits one round, not
    # every repeat of one variant.
    best: dict[tuple[str, int], tuple[float, float]] = {}
    for _ in range(repeats):
        for name, batch, run in runs:
            rate, local = beside_peak(run)
            old = best.get((name, batch), (0.0, 0.0))
            best[(name, batch)] = (max(old[0], rate), max(old[1], local))
    rows += [(name, batch, *best[(name, batch)]) for name, batch, _ in runs]
    return {"shape": shape, "flops": flops, "rows": rows}


# -- 3. cache reads -----------------------------------------------------------------------------
def bench_read(workdir: Path, n: int, dim: int, repeats: int, chunk_rows: int = 65536) -> dict[str, float]:
    path = workdir / "read" / "features.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    for start in range(0, n, chunk_rows):
        array[start : start + chunk_rows] = np.random.default_rng(start).random((min(chunk_rows, n - start), dim),
                                                                                dtype=np.float32)
    array.flush()
    del array
    nbytes = n * dim * 4

    def read_mmap() -> None:
        feats = np.load(path, mmap_mode="r")
        for start in range(0, n, chunk_rows):
            np.add.reduce(feats[start : start + chunk_rows], axis=0)

    in_memory = np.load(path)

    def read_ram() -> None:
        for start in range(0, n, chunk_rows):
            np.add.reduce(in_memory[start : start + chunk_rows], axis=0)

    t_mmap, t_ram = best_time(read_mmap, repeats), best_time(read_ram, repeats)
    return {"gb": nbytes / 1e9, "mmap": nbytes / t_mmap / 1e9, "ram": nbytes / t_ram / 1e9}


# -- report -------------------------------------------------------------------------------------
def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        name = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        name = platform.processor() or "unknown CPU"
    import os

    return f"{name}, {os.cpu_count()} cores"


def render(args: argparse.Namespace, peak: float, probes: list[dict[str, Any]], tps: list[dict[str, Any]],
           read: dict[str, float]) -> str:
    cmd = "`.venv/bin/python scripts/bench_features.py" + (" --quick" if args.quick else "") + "`"
    load = " / ".join(f"{x:.1f}" for x in args.load)
    lines = [SECTION, "", f"Command: {cmd}", "",
             f"Machine: {cpu_name()} (`lscpu | grep 'Model name'`), {torch.get_num_threads()} torch threads, "
             f"no GPU; torch {torch.__version__}, Python {platform.python_version()}. Shared with other jobs: "
             "absolute times are noisy; each comparison runs side by side in one process, best of "
             f"{args.repeats}. Load average (1 min) at start / end of this run: {load} (2 cores; above ~1 the "
             "available FLOP/s halves, see the matmul column).", "",
             "### Linear probe: from the cache vs re-encoding every epoch", "",
             f"digits (train split, N = {probes[0]['n']}) resized to each size, frozen conv encoder (default "
             f"widths 32/64/128, batch norm, seeded random weights), D = {probes[0]['dim']}; the same `nn.Linear` + "
             f"Adam (lr 1e-2), {probes[0]['epochs']} epochs, batch {probes[0]['batch']}, the same batches on both "
             "sides (identical final losses). The cached side includes opening the cache and reading it once; "
             "the re-encoding side encodes each batch under `torch.no_grad` (no data loading or augmentation "
             "counted: this is its floor).", "",
             "| images | probe fed by | time (s) | final batch loss | val accuracy | speed-up | cache build, once (s) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for pr in probes:
        size = f"{pr['size']} x {pr['size']}"
        lines += [f"| {size} | feature cache | {pr['cache']:.3f} | {pr['loss_cache']:.4f} | {pr['acc_cache']:.3f} | "
                  f"**{pr['encode'] / pr['cache']:.0f}x** | {pr['build']:.2f} |",
                  f"| {size} | re-encoding | {pr['encode']:.3f} | {pr['loss_encode']:.4f} | {pr['acc_encode']:.3f} "
                  "| 1x | - |"]
    lines += ["", "Target: >= 50x.", "",
             "### Encode throughput vs matmul peak", "",
             f"Peak: float32 matmul 4096 x 4096, best of 5, before and after the runs: **{peak / 1e9:.0f} GFLOP/s**; "
             "because other jobs move it, each row is also compared with a 2048 x 2048 matmul (best of 3) timed "
             "right before and after that row (the larger); rows are measured in rounds over all variants, best "
             f"of {args.repeats} rounds. Encoder FLOPs counted with "
             "`FlopCounterMode` (conv + linear, 2 per multiply-add; batch norm and ReLU not counted).", ""]
    for tp in tps:
        c, h, w = tp["shape"]
        lines += [f"Conv encoder on {c} x {h} x {w} images: {tp['flops'] / 1e6:.1f} MFLOP per image.", "",
                  "| variant | batch | images/s | GFLOP/s | matmul GFLOP/s beside it | % of that peak |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for name, batch, rate, local in tp["rows"]:
            if rate != rate:  # nan: the variant failed
                lines.append(f"| {name} | {batch} | - | - | - | - |")
                continue
            gflops = rate * tp["flops"] / 1e9
            lines.append(f"| {name} | {batch} | {rate:,.0f} | {gflops:.1f} | {local / 1e9:.0f} | "
                         f"{100 * gflops * 1e9 / local:.0f}% |")
        lines.append("")
    lines += ["Reading the tables: compare rows measured at similar matmul figures. The matmul figure is the "
              "rate MKL's sgemm reaches here, a practical peak, not the hardware's: oneDNN's convolutions can "
              "exceed it (rows above 100%). `extract_features` "
              "keeps conv encoders channels_last and batches 64 images by default because those were the fastest "
              "eager settings in these runs; the gap between it and the bare forward pass is the uint8 -> float "
              "conversion, the memory-mapped write, hashing the items for the fingerprint and fsync.", "",
              "### Reading the cache", "",
              f"A {read['gb']:.2f} GB `features.npy` (float32), memory-mapped (`np.load(mmap_mode='r')`) and summed "
              "in 64k-row chunks, page cache warm (file just written; cold-disk reads are not measured: dropping "
              "the page cache would disturb the other jobs on this machine).", "",
              "| read | GB/s |", "| --- | --- |",
              f"| memory-mapped features.npy | {read['mmap']:.1f} |",
              f"| same array already in RAM (floor) | {read['ram']:.1f} |", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--repeats", type=int, default=3, help="best of this many timings (default 3)")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    p.add_argument("--no-write", action="store_true", help="print the section instead of writing docs")
    p.add_argument("--retrain-only", action="store_true", help="only the retrain part (its own section)")
    p.add_argument("--mnist-root", type=Path, default=MNIST_ROOT, help="root of the MNIST test set (MNIST/raw/t10k-*)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args(argv)
    args.argv = argv
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    import os

    args.load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-retrain-") as tmp:
        retrained = bench_retrain(Path(tmp), args.repeats, 5 if args.quick else 20, args.mnist_root)
    if args.retrain_only:
        args.load.append(os.getloadavg()[0])
        section = render_retrain(args, retrained)
        if not args.no_write:
            write_section(RETRAIN_SECTION, section)
        print(section)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        work = Path(tmp)
        peak = matmul_flops()
        probes = [bench_probe(work, size, epochs=20, batch_size=256, repeats=args.repeats) for size in (28, 64)]
        for pr in probes:
            print(f"probe {pr['size']}: cache {pr['cache']:.3f} s, re-encode {pr['encode']:.3f} s", file=sys.stderr)
        n = 1024 if args.quick else 4096
        batches = [16, 64, 256]
        tps = [bench_throughput(shape, n, batches, args.repeats, work, not args.no_compile)
               for shape in ((1, 28, 28), (3, 64, 64))]
        read = bench_read(work, n=2**15 if args.quick else 2**18, dim=256, repeats=args.repeats)
        peak = max(peak, matmul_flops())  # measured before and after: other jobs make it move
    args.load.append(os.getloadavg()[0])
    section = render(args, peak, probes, tps, read)
    if not args.no_write:
        write_section(SECTION, section)
        write_section(RETRAIN_SECTION, render_retrain(args, retrained))
    print(section + "\n" + render_retrain(args, retrained))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
