"""Regenerate every number and picture of docs/guide.md.

    python scripts/guide.py           # CPU scale (measured 5 min of CPU on 2 cores): docs/guide.md + docs/guide/
    python scripts/guide.py --tiny    # everything at a tiny size (as the test does), into the work directory
    python scripts/guide.py --only units --work W   # rerun one section (others' values from docs/guide/values.json;
                                                    # sections that read the sweep need the same --work)
    python scripts/guide.py --render  # refill the page from docs/guide/values.json after editing the template

Each section of the guide is one function below. It runs the exact ``autoenc`` commands the guide
shows (formatted from the same strings at the chosen scale, so the text cannot drift from what
ran), reads what they wrote, copies the pictures into ``--out`` and returns the values that fill
``scripts/guide_template.md``. Nothing in the guide is typed by hand: every number comes from
this run, and the page states the machine, the date and what each section cost (CPU seconds of
this process, and wall seconds, which on a shared machine are larger).

The commands run in this process through the ``autoenc`` entry point (one torch import for the
whole guide) with the working directory set to ``--work``, where ``configs`` links to the
repository's configs, exactly as a reader runs them from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import platform
import shlex
import shutil
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "scripts" / "guide_template.md"


@dataclass(frozen=True)
class Scale:
    """Sizes of every experiment of the guide (the CPU run and the tiny test run)."""

    name: str
    dims: str  # flat latent sizes of the sweep
    seeds: int
    epochs: int  # digits epochs per sweep run
    sweep_options: str  # more sweep options (data.subset for the tiny run)
    sprites_epochs: int
    sprites_subset: int  # sprites images used by the traversal / MI section (0: the config's all)
    disent_n: int  # codes for the mutual-information map
    id_repeats: int
    retrain_epochs: int  # most epochs of autoenc retrain
    topk_dims: str = "8,16,32,64"  # widths of the TopK sweep (k fixed by the config)
    spatial_channels: str = "1, 2, 4, 8"  # latent_channels of the spatial VAEs
    spatial_epochs: int = 40
    spatial_options: str = ""  # more autoenc.fit overrides (data.subset for the tiny run)


CPU = Scale("cpu", dims="2,4,8,16,32,64", seeds=3, epochs=80, sweep_options="", sprites_epochs=15,
            sprites_subset=0, disent_n=4000, id_repeats=5, retrain_epochs=200)
TINY = Scale("tiny", dims="2,8", seeds=1, epochs=1, sweep_options=" --fit '{data.subset: 400}'", sprites_epochs=1,
             sprites_subset=600, disent_n=300, id_repeats=2, retrain_epochs=3,
             topk_dims="8,16", spatial_channels="1, 2", spatial_epochs=1,
             spatial_options=', **{"data.subset": 300}')
SCALES = {s.name: s for s in (CPU, TINY)}


@dataclass
class Guide:
    """The state of one regeneration: where commands run, where pictures go, what was measured."""

    scale: Scale
    work: Path  # commands' working directory (runs, sweeps, caches)
    out: Path  # docs/guide: the pictures
    values: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def command(self, text: str, **extra: Any) -> tuple[str, str]:
        """Format the command ``text`` with the scale's fields (and ``extra``), run it in
        ``work`` and return (the command as run, its standard output). A non-zero exit fails."""
        from autoenc.cli.main import main

        line = text.format(s=self.scale, **extra)
        argv = shlex.split(line)
        assert argv[0] == "autoenc", line
        self.log(f"$ {line}")
        buffer = io.StringIO()
        with _chdir(self.work), contextlib.redirect_stdout(_Tee(buffer, sys.stdout)):
            code = main(argv[1:])
        if code:
            raise SystemExit(f"guide: `{line}` exited with code {code}")
        return line, buffer.getvalue()

    def picture(self, source: Path, name: str) -> str:
        """Copy a picture a command wrote into ``out``; returns its name there."""
        self.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.work / source, self.out / name)
        return name


class _Tee(io.TextIOBase):
    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def command_pattern(text: str, scale: Scale) -> str:
    """A regular expression matching command ``text`` at ``scale`` whatever its other fields
    (a run directory, a split) were: what the page must contain for each command."""
    import re

    fields = {m: "\x00" for m in re.findall(r"{(\w+)}", text)}
    return ".*?".join(re.escape(part) for part in text.format(s=scale, **fields).split("\x00"))


COMMANDS: list[str] = []  # filled below: every command the guide shows


def after_commands(code: str) -> str:
    """A fenced block of Python that needs the runs of the commands above it: tagged ``py``, not
    ``python``, so tests/test_docs_snippets.py (which runs every ``python`` block on its own in an
    empty directory) leaves it to tests/test_guide.py, which runs it after those commands."""
    return "```py\n" + code + "```"


def block(*lines: str) -> str:
    """A fenced shell block of commands."""
    return "```bash\n" + "\n".join(lines) + "\n```"


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- sections

COST_PY = """\
from autoenc.nets.cost import bottleneck_vs_plain

costs = bottleneck_vs_plain(channels=256, width=64, size=56)   # He et al. 2016, fig. 5
for name, cost in costs.items():
    print(name, cost.params, cost.macs)                        # parameters, multiply-adds per image
"""


def section_bottleneck(g: Guide) -> None:
    """What a bottleneck is: the ResNet block against two 3x3 convolutions, counted by the nets' cost function."""
    scope: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(COST_PY, "guide:bottleneck", "exec"), scope)
    costs = scope["costs"]
    b, p = costs["bottleneck"], costs["two_3x3"]
    g.values.update(
        cost_py="```python\n" + COST_PY + "```",
        cost_table=table(["block (256 channels, 56 x 56 map)", "parameters", "multiply-adds per image"], [
            ["1x1 256->64, 3x3 64->64, 1x1 64->256 (bottleneck)", f"{b.params:,}", f"{b.macs:,}"],
            ["two 3x3 256->256", f"{p.params:,}", f"{p.macs:,}"],
            ["ratio", f"{p.params / b.params:.1f} x", f"{p.macs / b.macs:.1f} x"]]),
        cost_param_ratio=f"{p.params / b.params:.0f}",
        cost_mac_ratio=f"{p.macs / b.macs:.0f}",
    )


SWEEP = ("autoenc sweep configs/digits_ae.yaml --latent_dims {s.dims} --seeds {s.seeds} "
         "--max_epochs {s.epochs}{s.sweep_options} --out guide_runs/sweep_flat")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def section_width(g: Guide) -> None:
    """How wide: the sweep over flat latent sizes, its curve and its recommendation."""
    line, _ = g.command(SWEEP)
    sweep = json.loads((g.work / "guide_runs/sweep_flat/sweep.json").read_text())
    rec = sweep["recommendation"]
    g.values.update(
        sweep_cmd=block(line),
        sweep_png=g.picture(Path("guide_runs/sweep_flat/sweep.png"), "sweep_flat.png"),
        sweep_text=(g.work / "guide_runs/sweep_flat/recommendation.txt").read_text().strip(),
        sweep_choice=rec["latent_dim"],
    )


SWEEP_TOPK = ("autoenc sweep configs/digits_topk.yaml --latent_dims {s.topk_dims} --seeds 1 "
              "--max_epochs {s.epochs}{s.sweep_options} --out guide_runs/sweep_topk")


def section_topk(g: Guide) -> None:
    """How wide a sparse code: the sweep over a TopK autoencoder's width at its fixed k."""
    line, _ = g.command(SWEEP_TOPK)
    sweep = json.loads((g.work / "guide_runs/sweep_topk/sweep.json").read_text())
    g.values.update(
        topk_cmd=block(line),
        topk_png=g.picture(Path("guide_runs/sweep_topk/sweep.png"), "sweep_topk.png"),
        topk_text=(g.work / "guide_runs/sweep_topk/recommendation.txt").read_text().strip(),
        topk_choice=sweep["recommendation"]["latent_dim"],
    )


SPATIAL_PY = """\
import autoenc
import torch

for channels in CHANNELS:                    # a spatial code: channels x 4 x 4 maps
    run = autoenc.fit("configs/digits_spatial_vae.yaml", model={"latent_channels": channels},
                      trainer={"max_epochs": EPOCHS}, name=f"spatial_c{channels}", runs_dir="guide_runs"OPTIONS)
    codes = run.encode()                     # (N, channels, 4, 4): posterior means of the validation images
    twonn = autoenc.estimate_id(codes.flatten(1).numpy(), ["twonn"])[0]
    torch.manual_seed(0)
    run.model.eval()
    with torch.no_grad():                    # negative ELBO, nats per image (one posterior sample)
        val = float(run.model(run.images("val")).loss)
    print(channels, tuple(codes.shape[1:]), round(val, 2), round(twonn.value, 2))
"""


def section_spatial(g: Guide) -> None:
    """A spatial (channel) bottleneck: a conv VAE at several latent_channels, code size and loss."""
    code = (SPATIAL_PY.replace("CHANNELS", f"[{g.scale.spatial_channels}]")
            .replace("EPOCHS", str(g.scale.spatial_epochs)).replace("OPTIONS", g.scale.spatial_options))
    out = io.StringIO()
    with _chdir(g.work), contextlib.redirect_stdout(out):
        exec(compile(code, "guide:spatial", "exec"), {"__name__": "__guide__"})
    rows = []
    for line in out.getvalue().splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[0].isdigit() and parts[1].startswith("("):
            shape, rest = parts[1].rsplit(")", 1)
            val, twonn = rest.split()
            dims = [int(v) for v in shape.strip("(").split(",") if v.strip()]
            rows.append([parts[0], " x ".join(map(str, dims)), math.prod(dims), val, twonn])
    if not rows:
        raise SystemExit("guide: the spatial section printed no results")
    losses, ids = [float(r[3]) for r in rows], [float(r[4]) for r in rows]
    best = rows[losses.index(min(losses))]
    if (max(losses) - min(losses)) / min(losses) < 0.01:
        verdict = (f"the validation loss barely changes with the channel count ({min(losses):.2f} to "
                   f"{max(losses):.2f} nats, under 1%), and the codes' TwoNN ID stays between {min(ids):.1f} and "
                   f"{max(ids):.1f}: the VAE's KL term keeps only the dimensions it needs, so the smallest "
                   f"code ({rows[0][2]} numbers) is as good as the largest here")
    else:
        verdict = f"the validation loss is lowest at `latent_channels` = {best[0]} ({best[3]} nats)"
    g.values.update(
        spatial_verdict=verdict,
        spatial_py="```python\n" + code + "```",
        spatial_table=table(["latent_channels", "code shape", "numbers per image", "val negative ELBO (nats/image)",
                             "TwoNN ID of the codes"], rows),
    )


REGULARISER_PY = """\
import autoenc
import torch

def loss(run, split):                           # nats per image, the model in eval mode
    run.model.eval()
    with torch.no_grad():
        return float(run.model(run.images(split)).loss)

run = autoenc.load("guide_runs/sweep_flat/runs/d8_s0/version_0")
print(loss(run, "train"), loss(run, "val"))
"""


def section_regulariser(g: Guide) -> None:
    """Is it a regulariser: train vs validation loss and probe accuracy against size, over seeds."""
    import numpy as np

    import autoenc

    scope: dict[str, Any] = {"__name__": "__guide__"}
    with _chdir(g.work), contextlib.redirect_stdout(io.StringIO()):
        exec(compile(REGULARISER_PY, "guide:regulariser", "exec"), scope)  # the page's code, as shown
    loss = scope["loss"]
    rows = _read_csv(g.work / "guide_runs/sweep_flat/sweep.csv")
    measured: dict[int, list[tuple[float, float, float]]] = {}
    for row in rows:
        run = autoenc.load(g.work / "guide_runs/sweep_flat" / row["run"])
        measured.setdefault(int(row["latent_dim"]), []).append(
            (loss(run, "train"), loss(run, "val"), float(row["probe_accuracy"])))
    sizes = sorted(measured)
    # per size: (means, standard deviations over seeds of (train, val, probe), std of the gap)
    stats = {d: (np.mean(measured[d], axis=0), np.std(measured[d], axis=0),
                 float(np.std([v - t for t, v, _ in measured[d]]))) for d in sizes}
    fmt = lambda m, s: f"{m:.2f} ± {s:.2f}"  # noqa: E731
    out_rows = [[d, fmt(stats[d][0][0], stats[d][1][0]), fmt(stats[d][0][1], stats[d][1][1]),
                 fmt(stats[d][0][1] - stats[d][0][0], stats[d][2]),
                 fmt(stats[d][0][2], stats[d][1][2])] for d in sizes]
    gaps = {d: stats[d][0][1] - stats[d][0][0] for d in sizes}
    best_val = min(sizes, key=lambda d: stats[d][0][1])
    best_probe = max(sizes, key=lambda d: stats[d][0][2])
    widest, narrowest = sizes[-1], sizes[0]
    _regulariser_figure(sizes, stats, g.out / "regulariser.png")
    g.values.update(
        reg_py=after_commands(REGULARISER_PY),
        reg_table=table(["latent size", "train nats/image", "val nats/image", "gap (val - train)",
                         "linear-probe accuracy (val)"], out_rows),
        reg_png="regulariser.png",
        reg_seeds=len(rows) // len(sizes),
        reg_best_val=best_val, reg_best_probe=best_probe,
        reg_gap_narrow=f"{gaps[narrowest]:.2f}", reg_gap_wide=f"{gaps[widest]:.2f}",
        reg_narrow=narrowest, reg_wide=widest,
        reg_verdict=_verdict(sizes, stats, gaps),
        reg_acc_narrow=f"{stats[narrowest][0][2]:.3f}", reg_acc_best=f"{stats[best_probe][0][2]:.3f}",
    )


def _verdict(sizes: list[int], stats: dict[int, Any], gaps: dict[int, float]) -> str:
    """The regulariser question answered from the numbers (whichever way they say)."""
    widest, narrowest = sizes[-1], sizes[0]
    val = {d: stats[d][0][1] for d in sizes}
    spread = max(stats[d][1][1] for d in sizes)  # the largest seed spread of a validation loss
    gap = f"({gaps[narrowest]:.2f} nats at size {narrowest}, {gaps[widest]:.2f} at size {widest}, seed spread up to {spread:.2f})"
    if gaps[widest] > gaps[narrowest] + spread:
        parts = [f"the generalisation gap (validation minus training loss) grows with the width {gap}: "
                 "a narrower code does overfit less"]
    elif gaps[widest] < gaps[narrowest] - spread:
        parts = [f"the generalisation gap (validation minus training loss) is *larger* for the narrowest code "
                 f"than for the widest {gap}: squeezing does not reduce overfitting here"]
    else:
        parts = [f"the generalisation gap (validation minus training loss) does not change with the width beyond "
                 f"the seed spread {gap}"]
    gap_spread = max(stats[d][2] for d in sizes)
    tightest = min(sizes, key=gaps.get)
    if tightest not in (narrowest, widest) and gaps[widest] > gaps[tightest] + gap_spread:
        parts.append(f"the gap is smallest at size {tightest} ({gaps[tightest]:.2f}) and grows again beyond it "
                     f"({gaps[widest]:.2f} at size {widest}): past that width, extra units fit the training "
                     "images a little better than new ones")
    best = min(sizes, key=val.get)
    ties = [d for d in sizes if val[d] <= val[best] + spread]
    at = f"size {best}" if len(ties) == 1 else "sizes " + ", ".join(str(d) for d in ties)
    if widest in ties:
        parts.append(f"the validation loss is lowest at {at} (within the seed spread), so widening the code "
                     "never hurt new images in this range: no sign that the squeeze is needed as a regulariser")
    elif narrowest in ties:
        parts.append(f"the validation loss is lowest at {at}, so here squeezing helps on new images")
    else:
        parts.append(f"the validation loss is lowest at {at}, and rises again for wider codes: beyond that, "
                     "width fits the training images better than new ones")
    if widest in ties and not gaps[widest] > gaps[narrowest] + spread:
        short = "No, not on this data: a narrower code neither overfits less nor does better on new images"
    elif narrowest in ties:
        short = "Yes, on this data: the narrowest code does best on new images"
    else:
        short = "Partly: past a middle width, extra units fit the training images better than new ones"
    return f"{short}. In detail: " + "; ".join(parts) + "."


def _regulariser_figure(sizes: list[int], stats: dict[int, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for i, label in ((0, "train"), (1, "validation")):
        ax1.errorbar(sizes, [stats[d][0][i] for d in sizes], [stats[d][1][i] for d in sizes], marker="o",
                     capsize=3, label=label)
    ax1.set(xscale="log", xlabel="latent size", ylabel="nats / image", title="reconstruction loss")
    ax1.set_xticks(sizes, [str(d) for d in sizes])
    ax1.minorticks_off()
    ax1.legend()
    ax2.errorbar(sizes, [stats[d][0][2] for d in sizes], [stats[d][1][2] for d in sizes], marker="o", capsize=3)
    ax2.set(xscale="log", xlabel="latent size", ylabel="accuracy", title="linear probe on the codes (val)")
    ax2.set_xticks(sizes, [str(d) for d in sizes])
    ax2.minorticks_off()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


ID_CMD = "autoenc id {run} --out guide_runs/id --repeats {s.id_repeats} --estimators '[twonn, mle]'"


def section_dimension(g: Guide) -> None:
    """Are the features lower-dimensional: ID of the images and of the codes of the chosen run."""
    choice = g.values["sweep_choice"]
    run = f"guide_runs/sweep_flat/runs/d{choice}_s0/version_0"
    line, _ = g.command(ID_CMD, run=run)
    rows = []
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((g.work / "guide_runs/id").glob("intrinsic_dim_*.json")):
        data = json.loads(path.read_text())
        label = path.stem.removeprefix("intrinsic_dim_")
        found[label] = {r["estimator"]: r for r in data["results"]}
        for r in data["results"]:
            spread = "" if r["spread"] is None else f" ± {r['spread']:.2f}"
            rows.append([label, "x".join(str(v) for v in data["shape"][1:]), r["estimator"], f"{r['value']:.2f}{spread}"])
    images, codes = found["images"]["twonn"], found["codes"]["twonn"]
    margin = (images["spread"] or 0.0) + (codes["spread"] or 0.0)
    if codes["value"] < images["value"] - margin:
        verdict = "Yes, measurably"
    elif codes["value"] > images["value"] + margin:
        verdict = "Not here: the codes measure higher than the images"
    else:
        verdict = "Not measurably here: the two agree within their spreads"
    g.values.update(
        id_verdict=verdict,
        id_cmd=block(line),
        id_table=table(["measured", "ambient size", "estimator", "intrinsic dimension"], rows),
        id_choice=choice,
        id_n=found["images"]["twonn"]["n"],
        id_images=f"{found['images']['twonn']['value']:.1f}",
        id_codes=f"{found['codes']['twonn']['value']:.1f}",
        id_png=g.picture(Path("guide_runs/id/intrinsic_dim_codes.png"), "id_codes.png"),
    )


LAYERS = "autoenc id {run} --layers all --out guide_runs/id_layers"


def section_layers(g: Guide) -> None:
    """The ID layer by layer through the chosen autoencoder: input, encoder stages, code, decoder."""
    choice = g.values["sweep_choice"]
    line, _ = g.command(LAYERS, run=f"guide_runs/sweep_flat/runs/d{choice}_s0/version_0")
    profile = json.loads((g.work / "guide_runs/id_layers/id_layers.json").read_text())
    layers = profile["layers"]
    rows = []
    for layer in layers:
        spread = layer["id"]["spread"]
        rows.append([f"`{layer['layer']}`", layer["width"],
                     f"{layer['id']['value']:.2f}" + ("" if spread is None else f" ± {spread:.2f}")])
    lowest = min(layers, key=lambda layer: layer["id"]["value"])
    code = next((layer for layer in layers if layer["layer"] == "code"), None)
    if code is not None and lowest is code:
        verdict = "the code has the lowest ID of all layers: the profile dips at the bottleneck"
    else:
        verdict = (f"the lowest ID is at `{lowest['layer']}` ({lowest['id']['value']:.2f} ± "
                   f"{lowest['id']['spread'] or 0:.2f}), not at the code ({code['id']['value']:.2f} ± "
                   f"{code['id']['spread'] or 0:.2f})" if code is not None else "the profile names no code layer")
        if code is not None and (code["id"]["value"] - lowest["id"]["value"]
                                 <= (code["id"]["spread"] or 0) + (lowest["id"]["spread"] or 0)):
            verdict += ("; the two agree within their spreads, so the ID falls through the encoder to the "
                        "code and stays there, rather than dipping at the code and rising again")
    g.values.update(
        layers_cmd=block(line),
        layers_table=table(["layer", "width (values per image)", "TwoNN ID"], rows),
        layers_png=g.picture(Path("guide_runs/id_layers/id_layers.png"), "id_layers.png"),
        layers_verdict=verdict,
        layers_n=profile["n"],
    )


SPRITES_FIT = ("autoenc fit -c configs/sprites_tcvae_small.yaml --trainer.max_epochs {s.sprites_epochs} "
               "--trainer.default_root_dir guide_runs/fits{subset}")
TRAVERSE = "autoenc traverse {run} --out guide_runs/traverse --count 1"
DISENTANGLE = "autoenc disentangle {run} --out guide_runs/disentangle --metrics '[mig, sap]' --n {s.disent_n} --jobs 1"


def section_units(g: Guide) -> None:
    """What each unit does: a traversal and the mutual-information map of a beta-TCVAE on sprites."""
    subset = f" --data.subset {g.scale.sprites_subset}" if g.scale.sprites_subset else ""
    fit, _ = g.command(SPRITES_FIT, subset=subset)
    run = "guide_runs/fits/sprites_tcvae_small/version_0"
    traverse, _ = g.command(TRAVERSE, run=run)
    disent, out = g.command(DISENTANGLE, run=run)
    report = json.loads((g.work / "guide_runs/disentangle/disentanglement.json").read_text())
    g.values.update(
        units_cmd=block(fit, traverse, disent),
        units_traverse=g.picture(Path("guide_runs/traverse/traversal.png"), "sprites_traversal.png"),
        units_mi=g.picture(Path("guide_runs/disentangle/disentanglement_mi.png"), "sprites_mi.png"),
        units_scores=", ".join(f"{k.upper()} {v:.3f}" for k, v in report["scores"].items()),
        units_factors=_factor_units(report),
    )


def _factor_units(report: dict[str, Any]) -> str:
    """Per ground-truth factor, the unit holding most of it (mutual information / factor entropy)."""
    names, entropy = report["factors"]["names"], report["factors"]["entropy_nats"]
    mi = report["mutual_info_nats"]  # (latents, factors), nats
    parts = []
    for f, name in enumerate(names):
        unit = max(range(len(mi)), key=lambda z: mi[z][f])
        share = mi[unit][f] / entropy[f]
        parts.append(f"{name} in z{unit} ({share:.2f})" if share >= 0.3 else f"{name} in no single unit "
                     f"(at most {share:.2f}, z{unit})")
    return "; ".join(parts)


FEATURES = "autoenc features {run} --split {split} --cache guide_runs/cache_{split}"
PROBE = "autoenc probe guide_runs/cache_train --test_cache guide_runs/cache_val --json guide_runs/probe.json"


def section_features(g: Guide) -> None:
    """Bottleneck features: cache the codes of each split once, probe the cache."""
    choice = g.values["sweep_choice"]
    run_dir = f"guide_runs/sweep_flat/runs/d{choice}_s0/version_0"
    lines = [g.command(FEATURES, run=run_dir, split=split)[0] for split in ("train", "val")]
    probe_line, _ = g.command(PROBE)
    probe = json.loads((g.work / "guide_runs/probe.json").read_text())
    g.values.update(feat_cmd=block(*lines, probe_line), feat_accuracy=_probe_accuracy(probe))


RETRAIN = ("autoenc retrain guide_runs/cache_train --out guide_runs/{name} --epochs {s.retrain_epochs}{distort} "
           "--json guide_runs/{name}.json")
PNG_PY = """\
import autoenc
from pathlib import Path
from PIL import Image

run = autoenc.load("RUN")
images, labels = run.images("val"), run.targets("val")      # the validation split: not in the train cache
for i, (image, label) in enumerate(zip(images, labels)):
    path = Path(f"guide_runs/val_png/{int(label)}/{i:04d}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((image[0].numpy() * 255).round().astype("uint8")).save(path)
"""
PREDICT = "autoenc predict guide_runs/classifier guide_runs/val_png --csv guide_runs/predictions.csv"
DISTORT = " --random_brightness 0.2"


def section_classifier(g: Guide) -> None:
    """Retrain a last layer on the cache, keep it as a classifier, predict image files; the cache's
    speed-up measured against re-encoding (distorted) images every epoch."""
    choice = g.values["sweep_choice"]
    run_dir = f"guide_runs/sweep_flat/runs/d{choice}_s0/version_0"
    retrain, _ = g.command(RETRAIN, name="classifier", distort="")
    distorted, _ = g.command(RETRAIN, name="classifier_distorted", distort=DISTORT)
    cached = json.loads((g.work / "guide_runs/classifier.json").read_text())
    encoded = json.loads((g.work / "guide_runs/classifier_distorted.json").read_text())
    png_py = PNG_PY.replace("RUN", run_dir)
    with _chdir(g.work):
        exec(compile(png_py, "guide:png", "exec"), {"__name__": "__guide__"})
    predict, _ = g.command(PREDICT)
    with (g.work / "guide_runs/predictions.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    right = sum(Path(r["path"]).parent.name == r["label"] for r in rows)
    per_epoch = cached["seconds"] / cached["epochs"]
    per_epoch_encoded = encoded["seconds"] / encoded["epochs"]
    g.values.update(
        cls_cmd=block(retrain, distorted),
        cls_png_py=after_commands(png_py),
        cls_predict_cmd=block(predict),
        cls_accuracy=_probe_accuracy(cached),
        cls_epochs=f"{cached['epochs']} epochs (best {cached['best_epoch']})",
        cls_seconds=f"{cached['seconds']:.2f}",
        cls_epoch_ms=f"{per_epoch * 1e3:.1f}",
        cls_epoch_encoded_ms=f"{per_epoch_encoded * 1e3:.1f}",
        cls_speedup=f"{per_epoch_encoded / per_epoch:.0f}",
        cls_predict=f"{right} of {len(rows)} ({right / len(rows):.3f})",
    )


def _probe_accuracy(probe: dict[str, Any]) -> str:
    """Accuracy with its 95% interval and the chance level, from ``autoenc probe --json``."""
    return (f"{probe['accuracy']:.3f} (95% interval {probe['ci_low']:.3f}-{probe['ci_high']:.3f}, "
            f"chance {probe['chance']:.3f}, {probe['n_train']} training and {probe['n_test']} test items)")


COMMANDS += [SWEEP, SWEEP_TOPK, ID_CMD, SPRITES_FIT, TRAVERSE, DISENTANGLE, FEATURES, PROBE, RETRAIN, PREDICT,
             LAYERS]

SECTIONS: list[tuple[str, Callable[[Guide], None]]] = [
    ("bottleneck", section_bottleneck),
    ("width", section_width),
    ("topk", section_topk),
    ("spatial", section_spatial),
    ("regulariser", section_regulariser),
    ("dimension", section_dimension),
    ("layers", section_layers),
    ("units", section_units),
    ("features", section_features),
    ("classifier", section_classifier),
]


# ---------------------------------------------------------------- the page

def machine() -> str:
    """CPU model, cores, torch version, load average, date: what the numbers were measured on."""
    import torch

    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{model}, {os.cpu_count()} cores visible, torch {torch.__version__} with "
            f"{torch.get_num_threads()} thread(s), Python {platform.python_version()}; "
            f"load average {load} at the start")


VALUES = "values.json"


def run_guide(scale: Scale, work: Path, out: Path, markdown: Path | None,
              only: list[str] | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every section (or ``only`` those) at ``scale`` with the commands in ``work``, write the
    pictures and ``values.json`` (every value measured, merged with those of earlier runs of other
    sections) to ``out`` and, when ``markdown`` is given and every value is there, the filled
    template. Returns the values."""
    import torch

    unknown = sorted(set(only or ()) - {name for name, _ in SECTIONS})
    if unknown:
        raise SystemExit(f"guide: no section {unknown}; sections: {[name for name, _ in SECTIONS]}")
    torch.set_num_threads(1)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "configs").exists():
        (work / "configs").symlink_to(REPO / "configs")
    stored = out / VALUES
    g = Guide(scale, work, out, log=log)
    if only and stored.is_file():
        g.values.update(json.loads(stored.read_text()))
    g.values.update(_out=str(out), machine=machine(), date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    scale=scale.name)
    log(f"guide: {g.values['date']}, {g.values['machine']}")
    sections = g.values.setdefault("_sections", {})
    for name, section in SECTIONS:
        if only and name not in only:
            continue
        cpu, wall = time.process_time(), time.perf_counter()
        section(g)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        g.values[f"cost_{name}"] = f"{cpu:.{0 if cpu >= 10 else 1}f} s of CPU ({wall:.{0 if wall >= 10 else 1}f} s wall)"
        sections[name] = {"cpu_s": round(cpu, 1), "wall_s": round(wall, 1), "date": g.values["date"],
                          "scale": scale.name}
        log(f"guide: section {name}: {cpu:.1f} s CPU, {wall:.1f} s wall")
    g.values["costs"] = table(["section", "CPU s", "wall s", "measured"], [
        [name, f"{sections[name]['cpu_s']:.0f}", f"{sections[name]['wall_s']:.0f}", sections[name]["date"]]
        for name, _ in SECTIONS if name in sections])
    g.values["total_cpu"] = f"{sum(v['cpu_s'] for v in sections.values()) / 60:.1f}"
    g.values["total_wall"] = f"{sum(v['wall_s'] for v in sections.values()) / 60:.1f}"
    g.values["load_end"] = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    out.mkdir(parents=True, exist_ok=True)
    _atomic_text(stored, json.dumps(g.values, indent=1, default=str) + "\n")
    if markdown is not None:
        write_page(g.values, markdown)
        log(f"guide: wrote {markdown} and the pictures in {out}")
    return g.values


def page_text(values: dict[str, Any], directory: Path) -> str:
    """The template filled with ``values`` for a page in ``directory`` (pictures linked relative
    to it); a value missing from them is an error, not a blank."""
    template = TEMPLATE.read_text()
    fields = {m.group("named") or m.group("braced") for m in string.Template.pattern.finditer(template)}
    missing = sorted(fields - {None, "pics"} - set(values))
    if missing:
        raise SystemExit(f"guide: no values for {missing}; run the sections that measure them")
    pictures = os.path.relpath(values["_out"], directory)
    return string.Template(template).substitute({k: v for k, v in values.items() if not k.startswith("_")},
                                                pics=pictures)


def write_page(values: dict[str, Any], markdown: Path) -> None:
    """Write :func:`page_text` to ``markdown`` (atomically)."""
    _atomic_text(markdown, page_text(values, markdown.parent))


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="everything at a tiny size (for the test)")
    parser.add_argument("--out", type=Path, default=None,
                        help="pictures directory (default: docs/guide; with --tiny: WORK/docs/guide)")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="the page to write (default: docs/guide.md; with --tiny: WORK/docs/guide.md)")
    parser.add_argument("--work", type=Path, default=None,
                        help="where the commands run and their runs go (default: a new temporary directory)")
    parser.add_argument("--render", action="store_true",
                        help="only fill the template again from --out's values.json (after editing its text)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="run only these sections; the others' values come from --out's values.json")
    args = parser.parse_args(argv)
    if args.render:
        out, markdown = args.out or REPO / "docs" / "guide", args.markdown or REPO / "docs" / "guide.md"
        values = json.loads((out / VALUES).read_text())
        values["_out"] = str(out.resolve())  # the pictures are where values.json is
        write_page(values, markdown.resolve())
        print(f"guide: wrote {markdown}")
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="autoenc_guide_"))
    print(f"guide: scale {'tiny' if args.tiny else 'cpu'}, commands run in {work}")
    docs = work / "docs" if args.tiny else REPO / "docs"  # a tiny run never overwrites the committed page
    out, markdown = args.out or docs / "guide", args.markdown or docs / "guide.md"
    run_guide(TINY if args.tiny else CPU, work.resolve(), out.resolve(), markdown.resolve(), args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
