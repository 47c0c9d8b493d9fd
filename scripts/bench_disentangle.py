"""The CPU-scale sprites disentanglement study, and the speed of the metrics.

    python scripts/bench_disentangle.py study --out DIR [--seeds 2] [--epochs N] [--n 10000] [--vote-points 1000]
    python scripts/bench_disentangle.py speed [--n 10000] [--run RUN] [--write]

``study`` trains VAE (beta 1), beta-VAE (beta 4) and beta-TCVAE (tc_beta 6) from
configs/sprites_{vae,betavae,tcvae}_small.yaml (32x32 sprites, 11,520 images) with each seed,
in this process through the ``autoenc fit`` command, scores every run with
:func:`autoenc.workflows.disentangle_run.disentangle_model` (MIG, DCI, SAP, FactorVAE and
beta-VAE scores on disjoint training and test images, ``--eval-repeats`` evaluation draws), and
writes ``DIR/disentanglement.md`` with the table, and ``DIR/disentanglement/`` with the heat
maps and a traversal of each model (seed 0); nothing is written over docs/. The page is
rewritten after every run, so an interrupted study leaves the runs it finished. Results are
kept in ``--work`` (default /tmp/autoenc_disentangle_study/results.json); a run already there
is not scored again, and a run directory with a last checkpoint is not trained again.

``speed`` times what ``autoenc disentangle`` does with every metric on N codes and the fast DCI
regressor (target: <= 30 s on 2 cores), then fits DCI with every regressor on the same codes
and tabulates their agreement with disentanglement_lib's boosted trees; with ``--write`` it
writes the "## Disentanglement" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
DOCS = REPO / "docs"
MODELS = {"VAE (beta 1)": "sprites_vae_small", "beta-VAE (beta 4)": "sprites_betavae_small",
          "beta-TCVAE (tc_beta 6)": "sprites_tcvae_small"}
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
SCORES = [("mig", "MIG"), ("disentanglement", "DCI D"), ("completeness", "DCI C"),
          ("informativeness_test", "DCI I (test acc.)"), ("sap", "SAP"), ("factor_vae_eval", "FactorVAE"),
          ("beta_vae_eval", "beta-VAE")]
# TC is left out: its minibatch estimate depends on the batch size (issue 20 item 1).
TERMS = [("recon", "recon (nats)"), ("kl", "KL (nats)")]


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


# -- the study ------------------------------------------------------------------------------------
def train(config: str, seed: int, runs: Path, epochs: int | None) -> tuple[Path, float]:
    from autoenc.cli.main import main

    name = f"{Path(config).stem}_seed{seed}"
    argv = ["fit", "-c", str(REPO / "configs" / f"{config}.yaml"), "--seed_everything", str(seed),
            "--runs_dir", str(runs), "--name", name, *QUIET]
    if epochs is not None:
        argv += ["--trainer.max_epochs", str(epochs)]
    start = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"training {name} failed")
    return runs / name / "version_0", time.perf_counter() - start


def evaluate(run: Path, n: int, vote_points: int, seed: int, repeats: int = 1, regressor: str = "gbt") -> dict:
    from autoenc.data.ground_truth import ground_truth_of
    from autoenc.measure.summary import evaluate_terms
    from autoenc.runs.run import Run
    from autoenc.workflows.disentangle_run import disentangle_model

    opened = Run.open(run)

    model, dm = opened.model, opened.datamodule
    options = {"factor_vae": {"num_train": vote_points, "num_eval": vote_points // 2},
               "beta_vae": {"num_train": vote_points, "num_eval": vote_points // 2},
               "dci": {"regressor": regressor}}
    start = time.perf_counter()
    report = disentangle_model(model, ground_truth_of(dm.source, dm.image_size, dm.channels), n, seed,
                               options=options, repeats=repeats)
    terms = evaluate_terms(model, dm.arrays("val").images)
    return {"scores": report.scores, "terms": terms, "eval_seconds": time.perf_counter() - start,
            "seconds": report.seconds, "report": report, "spread": report.spread, "split": report.split}


def pictures(label: str, run: Path, report, folder: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from autoenc.render.pictures import Picture, write_pictures
    from autoenc.runs.run import Run
    from autoenc.workflows.disentangle_run import disentanglement_pictures
    from autoenc.workflows.views import traversal_view

    opened = Run.open(run)

    model, dm = opened.model, opened.datamodule
    stem = MODELS[label]
    shown = [Picture(f"{stem}_{p.name}", p.data) for p in disentanglement_pictures(report)]
    trav = traversal_view(model, dm.arrays("val"), count=0, steps=9)[0]
    shown.append(Picture(f"{stem}_traversal.png", trav.data))
    write_pictures(shown, folder)
    return {p.name.removeprefix(f"{stem}_").removesuffix(".png"): f"disentanglement/{p.name}" for p in shown}


def _cell(values: list[float], stds: list[float | None] | None = None) -> str:
    """Mean over seeds (each seed's value, ± its std over the evaluation draws when known)."""
    if not values:
        return "-"
    stds = stds or [None] * len(values)
    text = " / ".join((f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}") + (f" ± {s:.3f}" if s else "")
                      for v, s in zip(values, stds, strict=True))
    return f"{statistics.mean(values):.3f} ({text})" if len(values) > 1 else text


USAGE = [
    "## Measuring your own run", "",
    "```",
    "autoenc fit -c configs/sprites_betavae_small.yaml",
    "autoenc disentangle runs/sprites_betavae_small/version_0            # every metric, 10,000 codes",
    "autoenc disentangle RUN --metrics '[mig,sap]' --n 5000 --out DIR         # the fast ones",
    "autoenc disentangle RUN --labels true                                     # labelled data: the class as one factor",
    "```", "",
    "It writes `disentanglement.json` (scores, factor names and sizes, the latents x factors mutual "
    "information in nats, DCI importances, SAP accuracies, FactorVAE votes) and two heat maps, latents "
    "ordered like `autoenc traverse` (most informative first). In Python: "
    "`autoenc.measure.disentanglement.{mig, dci, sap, factor_vae_score, beta_vae_score, mutual_info_matrix}` "
    "on arrays, `METRICS` (the registry), `api.disentangle_model(model, ground_truth)` for a model. "
    "The definitions are disentanglement_lib's (Locatello et al. 2019); MIG, SAP and DCI are tested "
    "against the `disent` port on the same arrays. Differences: SAP z-scores each latent first by "
    "default (`standardize=False` is disentanglement_lib's exact score, which depends on a latent's scale "
    "through the SVM's fixed C = 0.01); a factor fixed by a sprites subset is not a factor; the "
    "FactorVAE score counts active latents correctly.",
]


def summary(results: dict) -> list[str]:
    """Plain statements read off the table: which model leads each score, at what reconstruction cost."""
    means: dict[str, dict[str, float]] = {}
    for label in MODELS:
        done = [r for r in results.values() if r["model"] == label]
        if done:
            keys = [k for k, _ in SCORES + TERMS if all(k in {**r["scores"], **r["terms"]} for r in done)]
            means[label] = {k: statistics.mean({**r["scores"], **r["terms"]}[k] for r in done) for k in keys}
    if len(means) < 2:
        return ["Fewer than two models finished; no comparison."]
    out = []
    for key, header in SCORES:
        have = {m: v[key] for m, v in means.items() if key in v}
        best = max(have, key=have.get)
        out.append(f"- {header}: highest for {best} ({have[best]:.3f}); "
                   + ", ".join(f"{m} {v:.3f}" for m, v in have.items() if m != best) + ".")
    recon = {m: v["recon"] for m, v in means.items() if "recon" in v}
    best = min(recon, key=recon.get)
    out.append(f"- Reconstruction: best for {best} ({recon[best]:.1f} nats); "
               + ", ".join(f"{m} +{v - recon[best]:.1f}" for m, v in recon.items() if m != best) + " nats.")
    return out


def write_page(results: dict, args: argparse.Namespace, figures: dict[str, dict[str, str]]) -> None:
    """``--out``/disentanglement.md: the table (mean over seeds; each seed's mean ± std over the
    evaluation draws), the summary and the pictures."""
    from autoenc.core.atomic import atomic_file

    lines = ["# Disentanglement on CPU-scale sprites", "",
             "Written by `python scripts/bench_disentangle.py study"
             + (f" --epochs {args.epochs}" if args.epochs else "") + f" --seeds {args.seeds} --n {args.n}"
             f" --vote-points {args.vote_points}` on {machine()}.", "",
             "Data: procedural dSprites at 32x32, every shape and scale, every 4th orientation (10) and "
             "every 4th x and y position (8 each): 11,520 images, factors shape (3), scale (6), orientation "
             "(10), pos_x (8), pos_y (8). Models: MLP encoder/decoder (512, 256), 8 latents, Bernoulli "
             "likelihood, the configs `configs/sprites_{vae,betavae,tcvae}_small.yaml`"
             + (f", trained {args.epochs} epochs each" if args.epochs else "") + ".",
             "",
             f"Scores: the 11,520 images are split first into disjoint training and test images (a third "
             "held out; identical renders kept on one side); MIG and the mutual-information matrix on "
             f"{args.n:,} codes drawn from both sides, DCI and SAP fit on the training codes and score on the "
             f"test codes (DCI regressor {args.regressor}; DCI I = its test accuracy); FactorVAE and beta-VAE "
             f"scores on {args.vote_points} training points (from training images) and {args.vote_points // 2} "
             "evaluation points (from test images) of 64 images or pairs each (disentanglement_lib uses "
             f"10,000 / 5,000); {args.eval_repeats} evaluation draws per run. Reconstruction and KL in nats "
             "per image on the validation split. Each cell: mean over seeds (each seed's mean ± std over the "
             "evaluation draws).",
             "", "| model | seeds | " + " | ".join(h for _, h in SCORES + TERMS) + " | train min |",
             "|" + " --- |" * (len(SCORES) + len(TERMS) + 3)]
    for label in MODELS:
        done = [r for key, r in sorted(results.items()) if r["model"] == label]
        if not done:
            lines.append(f"| {label} | 0 | " + " | ".join("not run" for _ in SCORES + TERMS) + " | - |")
            continue
        row = [_cell([r["scores"][k] for r in done if k in r["scores"]],
                     [r.get("spread", {}).get(k, {}).get("std") for r in done if k in r["scores"]]) for k, _ in SCORES]
        row += [_cell([r["terms"][k] for r in done if k in r["terms"]]) for k, _ in TERMS]
        row.append(_cell([r["train_seconds"] / 60 for r in done]))
        lines.append(f"| {label} | {len(done)} | " + " | ".join(row) + " |")
    lines += ["", "## What it shows", "", *summary(results)]
    if getattr(args, "note", None):
        lines += ["", args.note]
    lines += ["", *USAGE]
    for label, shown in figures.items():
        lines += ["", f"## {label} (seed 0)", ""]
        for kind, path in shown.items():
            lines.append(f"![{label} {kind}]({path})")
    with atomic_file(Path(args.out) / "disentanglement.md", "w") as f:
        f.write("\n".join(lines) + "\n")


def study(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(max(1, args.threads))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    folder = Path(args.out) / "disentanglement"
    folder.mkdir(parents=True, exist_ok=True)
    store = work / "results.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    figures: dict[str, dict[str, str]] = {}
    for seed in range(args.seeds):
        for label, config in MODELS.items():
            key = f"{config}_seed{seed}"
            run = work / "runs" / key / "version_0"
            if key not in results:
                timing = work / f"{key}.train_seconds"
                if (run / "checkpoints" / "last.ckpt").exists() and timing.exists():
                    seconds = float(timing.read_text())
                else:
                    run, seconds = train(config, seed, work / "runs", args.epochs)
                    timing.write_text(f"{seconds}\n")
                found = evaluate(run, args.n, args.vote_points, seed, args.eval_repeats, args.regressor)
                results[key] = {"model": label, "seed": seed, "train_seconds": seconds, "run": str(run),
                                "scores": found["scores"], "terms": found["terms"], "spread": found["spread"],
                                "split": found["split"], "eval_seconds": found["eval_seconds"],
                                "metric_seconds": found["seconds"]}
                store.write_text(json.dumps(results, indent=2))
                if seed == 0:
                    figures[label] = pictures(label, run, found["report"], folder)
                print(f"{key}: {found['scores']} {found['terms']}", flush=True)
            elif seed == 0 and (folder / f"{config}_traversal.png").exists():
                figures[label] = {k: f"disentanglement/{config}_{k}.png"
                                  for k in ("disentanglement_mi", "disentanglement_dci", "traversal")}
            write_page(results, args, figures)


# -- speed ----------------------------------------------------------------------------------------
def _time(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _model_and_truth(run: str | None):  # type: ignore[no-untyped-def]
    """A trained run's model and ground truth, or an untrained configs/sprites_vae_small.yaml model
    (encoding costs the same; torch seed 0) on that config's 11,520-image sprites grid."""
    from autoenc.data.ground_truth import ground_truth_of

    if run:
        from autoenc.runs.run import Run

        opened = Run.open(run)

        model, dm = opened.model, opened.datamodule
        return model.eval(), ground_truth_of(dm.source, dm.image_size, dm.channels)
    import torch
    import yaml

    from autoenc.data import Sprites
    from autoenc.models.vae import VariationalAutoencoder
    from autoenc.nets.options import net_from_config

    config = yaml.safe_load((REPO / "configs" / "sprites_vae_small.yaml").read_text())
    init = config["model"]["init_args"]
    torch.manual_seed(0)  # the same untrained weights, so the same codes, in every run
    model = VariationalAutoencoder(input_shape=(1, 32, 32), latent_dim=init["latent_dim"],
                                   net=net_from_config(init["net"]), likelihood=init["likelihood"])
    source = Sprites(**config["data"]["source"]["init_args"])
    return model.eval(), source.ground_truth(32, 1)


def speed(args: argparse.Namespace) -> None:
    """Time ``autoenc disentangle``'s work (every metric, --n codes, the fast DCI regressor) and
    measure how the DCI regressors agree with disentanglement_lib's boosted trees."""
    from _bench_doc import write_section

    from autoenc.data.ground_truth import split_pool
    from autoenc.measure.codes import encode_all
    from autoenc.measure.disentanglement import dci
    from autoenc.measure.disentanglement.interventional import draw_codes
    from autoenc.measure.disentanglement.predictors import DCI_REGRESSORS
    from autoenc.workflows.disentangle_run import disentangle_model

    model, truth = _model_and_truth(args.run)
    votes = args.vote_points
    options = {"factor_vae": {"num_train": votes, "num_eval": votes // 2},
               "beta_vae": {"num_train": votes, "num_eval": votes // 2}, "dci": {"regressor": "hist_gbt"}}
    start, cpu = time.perf_counter(), time.process_time()
    report = disentangle_model(model, truth, args.n, 0, options=options, repeats=1)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    lines = ["## Disentanglement", "",
             f"`python scripts/bench_disentangle.py speed --n {args.n} --vote-points {votes}"
             + (f" --run {args.run}" if args.run else "") + f"` on {machine()} (the machine is shared; "
             "times are upper bounds).", "",
             f"**`autoenc disentangle` with every metric on {args.n:,} codes, DCI regressor hist_gbt, one "
             f"evaluation draw: {total:.1f} s wall, {cpu:.1f} s CPU time of this process** (model: "
             + ("the run's" if args.run else "untrained configs/sprites_vae_small.yaml MLP, 32x32 sprites, "
                "11,520 images") + f"; FactorVAE and beta-VAE on {votes} training and {votes // 2} evaluation "
             "points). Target (issue 20): <= 30 s on 2 cores; "
             + ("met." if cpu <= 30 else f"NOT met: {cpu:.0f} s of CPU time even before the machine's load "
                "(the DCI regressor's fits and permutation importances are most of it; on a shared machine "
                "set OMP_NUM_THREADS=1).") + " Per part (wall seconds):",
             "", "| part | seconds |", "| --- | --- |"]
    lines += [f"| {k} | {v:.1f} |" for k, v in report.seconds.items()]
    print("\n".join(lines), flush=True)
    # agreement of the DCI regressors with disentanglement_lib's (gbt) on the same codes
    train, test, _ = split_pool(truth, 1 / 3, 0)
    rng = np.random.default_rng(0)

    def encode(images):  # type: ignore[no-untyped-def]
        return encode_all(model, images, 512).double().numpy()

    n_test = int(round(args.dci_n / 3))
    codes, factors, _ = draw_codes(encode, train, args.dci_n - n_test, rng)
    codes_test, factors_test, _ = draw_codes(encode, test, n_test, rng)
    rows = []
    for name in DCI_REGRESSORS.list():
        started = time.perf_counter()
        found = dci(codes, factors, codes_test, factors_test, regressor=name, n_jobs=args.jobs)
        rows.append((name, found, time.perf_counter() - started))
        print(name, found.scores, rows[-1][2], flush=True)
    ref = dict((name, found) for name, found, _ in rows)["gbt"]
    lines += ["", f"DCI regressors on the same {args.dci_n:,} codes ({args.dci_n - n_test:,} from training images, "
              f"{n_test:,} from disjoint test images; factors {', '.join(truth.factor_names)}), "
              f"{args.jobs} jobs; agreement with gbt (disentanglement_lib) as the difference in D, C and "
              "I (test accuracy) and the Spearman correlation of the importance matrices:", "",
              "| regressor | seconds | D | C | I test | D - D(gbt) | C - C(gbt) | I - I(gbt) | Spearman vs gbt |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    from scipy.stats import spearmanr

    for name, found, seconds in rows:
        rho = spearmanr(found.matrices["importance"].ravel(), ref.matrices["importance"].ravel()).statistic
        lines.append(f"| {name} | {seconds:.1f} | {found['disentanglement']:.3f} | {found['completeness']:.3f} | "
                     f"{found['informativeness_test']:.3f} | {found['disentanglement'] - ref['disentanglement']:+.3f} | "
                     f"{found['completeness'] - ref['completeness']:+.3f} | "
                     f"{found['informativeness_test'] - ref['informativeness_test']:+.3f} | {rho:.3f} |")
    lines += ["", "hist_gbt's importances are permutation importances (HistGradientBoosting has no impurity "
              "importances), so its D and C are read against gbt's through this table, not as the same number."]
    print("\n".join(lines[-len(rows) - 6:]), flush=True)
    if args.write:
        write_section("## Disentanglement", "\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("study")
    s.add_argument("--seeds", type=int, default=2)
    s.add_argument("--epochs", type=int, default=None, help="override the configs' max_epochs")
    s.add_argument("--n", type=int, default=10_000)
    s.add_argument("--vote-points", type=int, default=1000)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--work", default="/tmp/autoenc_disentangle_study")
    s.add_argument("--out", required=True, help="directory for disentanglement.md and its pictures")
    s.add_argument("--eval-repeats", type=int, default=3, help="evaluation draws per run (the spread)")
    s.add_argument("--regressor", default="gbt", help="DCI regressor (gbt, hist_gbt, lasso, forest)")
    s.add_argument("--note", default=None, help="a paragraph added under the summary (e.g. the load during the runs)")
    q = sub.add_parser("speed")
    q.add_argument("--n", type=int, default=10_000)
    q.add_argument("--vote-points", type=int, default=1000, help="as autoenc disentangle's default")
    q.add_argument("--dci-n", type=int, default=10_000, help="codes for the DCI regressor agreement")
    q.add_argument("--jobs", type=int, default=2)
    q.add_argument("--run", default=None, help="a trained run (default: an untrained sprites_vae_small model)")
    q.add_argument("--write", action="store_true", help="write the section of docs/benchmarks.md")
    args = p.parse_args()
    study(args) if args.mode == "study" else speed(args)


if __name__ == "__main__":
    main()
