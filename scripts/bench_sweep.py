"""Wall time of an ordered sweep (ONE nested-dropout model at the largest size, every prefix
evaluated) against separate trainings of every size, same epochs per model, side by side.

    python scripts/bench_sweep.py                                  # digits AE, sizes 2..32, config epochs
    python scripts/bench_sweep.py --repeats 3 --seeds 2 --nested-p 0.1,0.03 --figure docs/ordered_bottleneck.png

Both sweeps run in this process, one run after another (``jobs=1``), each time in fresh
directories, through :func:`autoenc.workflows.sweep.run_sweep` (config check + training +
evaluation + files). A throw-away one-epoch fit first pays the process's one-time costs
(imports, first-call initialisation), so neither side is charged for them; with ``--repeats``
the order of the two sweeps alternates and medians are reported. "One training" is the
separate sweep's training time of the largest size. Target: the ordered sweep, evaluation
included, costs <= 1.5x one training.

With ``--figure`` it also draws the ordered curves (one per ``--nested-p``; the first is timed)
against the separately trained models, for docs/ordered_bottleneck.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from autoenc.workflows.sweep import SweepResult, make_plan, run_sweep
from autoenc.workflows.sweep.plan import parse_sizes


def _sweep(config: str, sizes: tuple[int, ...], seeds: int, out: Path, ordered: bool, max_epochs: int | None,
           overrides: dict) -> tuple[SweepResult, float]:
    plan = make_plan(config, sizes, seeds, out=out, ordered=ordered, max_epochs=max_epochs, overrides=overrides)
    tag = "ordered" if ordered else "separate"
    start = time.perf_counter()
    result = run_sweep(plan, log=lambda s: print(f"[{tag}] {s}", flush=True))
    return result, time.perf_counter() - start


def _warm_up(config: str, root: Path) -> None:
    plan = make_plan(config, [2], 1, out=root / "warmup", max_epochs=1)
    run_sweep(plan, log=lambda s: None, write=False)


def _epochs(args: argparse.Namespace) -> int | str:
    """Epochs per model: --max-epochs, else the config's trainer.max_epochs."""
    if args.max_epochs:
        return args.max_epochs
    from autoenc.workflows.sweep import read_model_config

    return (read_model_config(args.config).get("trainer") or {}).get("max_epochs", "default")


def _figure(path: Path, curves: dict[str, SweepResult], seeds: int, epochs: int | str) -> None:
    from autoenc.render.charts import save_figure
    from autoenc.render.sweep_plots import compare_figure

    name = next(iter(curves.values())).name
    fig = compare_figure(curves, title=f"{name}: validation metrics vs latent size "
                                       f"({seeds} seed{'s' if seeds > 1 else ''}, {epochs} epochs per model)")
    save_figure(fig, path)
    print(f"wrote {path}")


def _redraw(args: argparse.Namespace, sizes: tuple[int, ...], ps: list[float]) -> None:
    """--redraw: the figure from the sweeps a previous run kept in --out (no training)."""
    from autoenc.workflows.sweep import read_sweep

    largest = max(sizes)
    curves = {f"one ordered model at {largest}, p = {ps[0]:g}": read_sweep(args.out / "ordered_0"),
              **{f"one ordered model at {largest}, p = {v:g}": read_sweep(args.out / f"ordered_p{v:g}") for v in ps[1:]},
              "separately trained models": read_sweep(args.out / "separate_0")}
    _figure(args.figure, curves, args.seeds, _epochs(args))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="configs/digits_ae.yaml")
    p.add_argument("--sizes", default="2,4,8,16,32")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1, help="timed pairs of sweeps, order alternating")
    p.add_argument("--max-epochs", type=int, default=None, help="default: the config's")
    p.add_argument("--nested-p", default="0.1", help="nested_dropout_p of the ordered model(s); the first is timed")
    p.add_argument("--out", type=Path, default=None, help="keep the sweeps here (default: a temporary dir)")
    p.add_argument("--figure", type=Path, default=None, help="write the ordered-vs-separate figure here")
    p.add_argument("--redraw", action="store_true", help="only redraw --figure from the sweeps kept in --out")
    args = p.parse_args()
    sizes = parse_sizes(args.sizes)
    ps = [float(v) for v in args.nested_p.split(",")]
    if args.redraw:
        if not (args.out and args.figure):
            raise SystemExit("--redraw needs --out (the kept sweeps) and --figure")
        return _redraw(args, sizes, ps)
    root = args.out or Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty; give a fresh --out so that every run is timed")
    _warm_up(args.config, root)

    largest = max(sizes)
    timed_args = {"model.init_args.nested_dropout_p": ps[0]}
    one, t_ord, t_sep, ord_train = [], [], [], []
    for i in range(args.repeats):
        pair = [("separate", False, {}), ("ordered", True, timed_args)]
        for tag, ordered, overrides in pair if i % 2 == 0 else pair[::-1]:
            result, seconds = _sweep(args.config, sizes, args.seeds, root / f"{tag}_{i}", ordered,
                                     args.max_epochs, overrides)
            if ordered:
                ordered_result = result
                t_ord.append(seconds / args.seeds)
                ord_train.append(statistics.mean(t.seconds for t in result.trained))
            else:
                separate = result
                t_sep.append(seconds / args.seeds)
                one.append(statistics.mean(t.seconds for t in result.trained if t.run.latent_dim == largest))
    extra = {f"ordered, p = {v:g}": _sweep(args.config, sizes, args.seeds, root / f"ordered_p{v:g}", True,
                                           args.max_epochs, {"model.init_args.nested_dropout_p": v})[0]
             for v in ps[1:]}

    med = statistics.median
    epochs = _epochs(args)
    numbers = {
        "config": args.config, "sizes": list(sizes), "seeds": args.seeds, "epochs": epochs, "repeats": args.repeats,
        "nested_dropout_p": ps[0],
        "one_training_s": [round(v, 2) for v in one],
        "ordered_training_s": [round(v, 2) for v in ord_train],
        "ordered_sweep_s_per_seed": [round(v, 2) for v in t_ord],
        "separate_sweep_s_per_seed": [round(v, 2) for v in t_sep],
        "ordered_over_one_training": round(med(a / b for a, b in zip(t_ord, one, strict=True)), 2),
        "separate_over_ordered": round(med(a / b for a, b in zip(t_sep, t_ord, strict=True)), 2),
        "recommended": {"ordered": ordered_result.recommendation.latent_dim,
                        "separate": separate.recommendation.latent_dim,
                        **{k: r.recommendation.latent_dim for k, r in extra.items()}},
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads",
    }
    print(json.dumps(numbers, indent=1))
    print("\nseparate:\n" + separate.table() + f"\n\nordered (p = {ps[0]:g}):\n" + ordered_result.table())
    for label, result in extra.items():
        print(f"\n{label}:\n" + result.table())
    print(f"\n| {args.config} | {','.join(map(str, sizes))} | {epochs} | {args.seeds} x {args.repeats} | "
          f"{med(one):.1f} | {med(t_ord):.1f} | {med(t_sep):.1f} | "
          f"{numbers['ordered_over_one_training']:.2f}x | {numbers['separate_over_ordered']:.2f}x |")
    if args.figure:
        _figure(args.figure, {f"one ordered model at {largest}, p = {ps[0]:g}": ordered_result,
                              **{f"one ordered model at {largest}, {k.split(', ')[1]}": r for k, r in extra.items()},
                              "separately trained models": separate}, args.seeds, _epochs(args))
    print(f"sweeps in {root}")


if __name__ == "__main__":
    main()
