"""``autoenc sweep``: which bottleneck size? Train one config at several latent sizes, measure, recommend.

    autoenc sweep -c configs/digits_vae.yaml --latent-dims 2,4,8,16,32 --seeds 3 --jobs 2
    autoenc sweep -c configs/digits_ae.yaml --latent-dims 2,4,8,16,32 --ordered
    autoenc sweep -c CONFIG --latent-dims 2,8 -- --data.subset 500   # extra `autoenc fit` args

Every run is a normal ``autoenc fit`` run directory under ``<out>/runs``. Rerunning the same
command resumes: finished runs are skipped, interrupted ones resumed from their last.ckpt.
Writes sweep.csv, sweep.json, sweep.png and recommendation.txt to ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoenc.cli._args import ArgumentParser
from autoenc.errors import UserError


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="autoenc sweep",
        description="Train a config at several latent sizes (or one ordered nested-dropout model), "
        "measure each size on the validation split (reconstruction in nats, negative ELBO and "
        "active units for a VAE, TwoNN ID of the codes, linear-probe accuracy) and recommend one. "
        "Arguments after `--` go to every `autoenc fit`.",
    )
    p.add_argument("-c", "--config", required=True, type=Path, help="YAML training config (as for autoenc fit)")
    p.add_argument("--latent-dims", required=True, help="comma-separated latent sizes, e.g. 2,4,8,16,32")
    p.add_argument("--seeds", type=int, default=1, help="runs per size, seeds = config seed + 0..N-1 (default 1)")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs trained at once: 1 in this process, J > 1 in J child processes (default 1)")
    p.add_argument("--out", type=Path, help="sweep directory (default sweeps/<config name>[_ordered])")
    p.add_argument("--max-epochs", type=int, help="epochs per run (default: the config's trainer.max_epochs)")
    p.add_argument("--ordered", action="store_true",
                   help="train ONE nested-dropout model at the largest size per seed and evaluate every "
                   "prefix size from it")
    rule = p.add_argument_group("recommendation rule")
    rule.add_argument("--recon-tolerance", type=float, default=0.05,
                      help="share of the reconstruction range (worst - best) a size may lose (default 0.05)")
    rule.add_argument("--id-tolerance", type=float, default=0.10,
                      help="relative ID growth above a size that counts as stopped (default 0.1)")
    ev = p.add_argument_group("evaluation")
    ev.add_argument("--id-repeats", type=int, default=5, help="TwoNN subsamples for its spread (default 5)")
    ev.add_argument("--no-probe", action="store_true", help="skip the linear probe")
    return p


def split_fit_args(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Own arguments, and the fit options after ``--`` (``--data.subset 500``) as
    ``autoenc.fit`` overrides (``{"data.subset": 500}``; values read as YAML)."""
    if "--" not in argv:
        return argv, {}
    i = argv.index("--")
    rest, overrides = argv[i + 1:], {}
    while rest:
        key = rest.pop(0)
        if not key.startswith("--") or len(key) < 3:
            raise UserError(f"after --, give fit options as --KEY VALUE (e.g. --data.subset 500); got {key!r}")
        key, eq, value = key[2:].partition("=")
        if not eq:
            if not rest:
                raise UserError(f"fit option --{key} after -- needs a value (e.g. --data.subset 500)")
            value = rest.pop(0)
        overrides[key] = _yaml_value(value)
    return argv[:i], overrides


def _yaml_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def main(argv: list[str]) -> int:
    """Run ``autoenc sweep``; returns the exit code (UserErrors are reported by the dispatcher)."""
    own, fit_args = split_fit_args(list(argv))
    args = build_parser().parse_args(own)
    from autoenc.analysis.sweep.plan import check_positive, parse_sizes

    sizes = parse_sizes(args.latent_dims)
    check_positive(args.seeds, "--seeds")
    check_positive(args.jobs, "--jobs")
    check_positive(args.max_epochs, "--max-epochs")
    if args.id_repeats < 0 or args.id_repeats == 1:
        raise UserError(f"--id-repeats must be 0 or >= 2, got {args.id_repeats}")

    from autoenc.analysis.sweep import EvalSettings, Rule, make_plan, run_sweep, write_outputs
    from autoenc.atomic import staged_files

    rule = Rule(args.recon_tolerance, args.id_tolerance)
    plan = make_plan(args.config, sizes, args.seeds, out=args.out, ordered=args.ordered,
                     max_epochs=args.max_epochs, overrides=fit_args)
    settings = EvalSettings(id_repeats=args.id_repeats, probe=not args.no_probe)
    result = run_sweep(plan, jobs=args.jobs, settings=settings, rule=rule, write=False,
                       log=lambda s: print(f"sweep: {s}", flush=True))
    with staged_files(plan.out) as stage:  # the four result files appear together or not at all
        write_outputs(result, stage)
    skipped = sum(t.status == "skipped" for t in result.trained)
    if skipped:
        print(f"sweep: {skipped} of {len(result.trained)} runs were already finished (skipped)")
    print()
    print(result.table())
    print()
    print(result.recommendation.text())
    print(f"\nwrote {plan.out}/sweep.csv, sweep.json, sweep.png, recommendation.txt")
    return 0
