"""``autoenc id``: intrinsic dimension of codes, images, caches or arrays -> JSON + plot.

    autoenc id codes.npy --out runs/id [--estimators twonn,mle] [--k 20] [--repeats 5]
    autoenc id runs/digits_vae/version_0 --out runs/id     # raw images and codes side by side
    autoenc id features/cache_dir --out runs/id             # a feature cache
    autoenc id --data digits --out runs/id                  # raw images of a data source

An array is (N, D) points or (N, C, H, W) images (flattened). For a checkpoint or run
directory the validation split of the run's data (or ``--data``) is measured twice: the raw
images and the model's codes, reported with latent_dim and, for a VAE, active units. Everything else is a call to
:func:`autoenc.analysis.intrinsic_dim.estimate_all`; numpy/torch/matplotlib are imported
only when the command runs, so ``--help`` is instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoenc.cli._args import ArgumentParser, check_device, seed
from autoenc.errors import UserError

JSON_NAME = "intrinsic_dim.json"
PLOT_NAME = "intrinsic_dim.png"
NPY_MAGIC = b"\x93NUMPY"  # the first bytes of every .npy file (numpy.lib.format)

# flag dest -> (estimator, parameter); a flag left unset keeps the estimator's default.
_ESTIMATOR_FLAGS = {
    "discard_fraction": ("twonn", "discard_fraction"),
    "k": ("mle", "k"),
    "n1": ("gride", "n1"),
    "max_rank": ("gride", "max_rank"),
    "variance": ("pca", "variance"),
}


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="autoenc id",
        description="Intrinsic dimension of an (N, D) or (N, C, H, W) .npy array with several "
        "estimators, error bars from repeated subsamples and scale curves. Writes "
        f"{JSON_NAME} and {PLOT_NAME} to --out.",
    )
    p.add_argument("array", type=Path, nargs="?",
                   help=".npy file ((N, D) points or (N, C, H, W) images), a feature cache "
                        "directory, or a checkpoint / run directory; omit with --data")
    from autoenc.cli._data import add_data_arguments

    add_data_arguments(p, default=None)
    p.add_argument("--split", choices=["train", "val", "all"], default="val",
                   help="data split for a checkpoint or --data (default val)")
    p.add_argument("--out", type=Path, required=True, help="output directory (created)")
    p.add_argument(
        "--estimators",
        default="twonn,mle,gride,pca",
        help="comma-separated estimators (default: twonn,mle,gride,pca)",
    )
    est = p.add_argument_group("estimator parameters (unset: the estimator's default)")
    est.add_argument("--k", type=int, help="mle: neighbours per point (default 20)")
    est.add_argument(
        "--discard-fraction", type=float, help="twonn: largest ratios dropped (default 0.1)"
    )
    est.add_argument("--n1", type=int, help="gride: neighbour rank of the value (default 1)")
    est.add_argument(
        "--max-rank", type=int, help="gride: largest rank n2 on the scale curve (default 64)"
    )
    est.add_argument(
        "--variance", type=float, help="pca: explained variance to reach (default 0.9)"
    )
    unc = p.add_argument_group("uncertainty")
    unc.add_argument(
        "--repeats", type=int, default=5, help="subsamples per size; 0: none (default 5)"
    )
    unc.add_argument(
        "--fraction", type=float, default=0.5, help="points kept per subsample (default 0.5)"
    )
    unc.add_argument("--levels", type=int, default=4, help="subsample sizes on curves (default 4)")
    unc.add_argument("--seed", type=seed, default=0, help="seed of the subsamples (default 0)")
    run = p.add_argument_group("computation")
    run.add_argument(
        "--max-points",
        type=int,
        help="estimate on a random subset of this many points (default: all)",
    )
    run.add_argument(
        "--chunk-mb", type=float, default=256, help="memory per distance chunk, MiB (default 256)"
    )
    run.add_argument(
        "--device", help="torch device for the neighbour search (default: cuda if present)"
    )
    return p


def main(argv: list[str]) -> int:
    """Run ``autoenc id``; returns the exit code (UserErrors are reported by the dispatcher)."""
    args = build_parser().parse_args(argv)
    import numpy as np

    from autoenc.analysis.intrinsic_dim import estimate_all, make_estimator
    from autoenc.analysis.intrinsic_dim.result import write_results
    from autoenc.atomic import check_dir_creatable, staged_files

    check_device(args.device)
    if args.chunk_mb <= 0:
        raise UserError(f"--chunk-mb must be > 0, got {args.chunk_mb}")
    check_dir_creatable(args.out)
    inputs, context = _inputs(args)
    names = [n.strip() for n in args.estimators.split(",") if n.strip()]
    if not names:
        raise UserError("--estimators is empty; give e.g. twonn,mle,gride,pca")
    params = _estimator_parameters(args, names)
    estimators = [make_estimator(n, **params.get(n, {})) for n in names]
    measured = {}
    for label, x in inputs.items():
        shape = list(x.shape)
        if args.max_points is not None:
            if args.max_points < 2:
                raise UserError(f"--max-points must be >= 2, got {args.max_points}")
            if args.max_points < len(x):
                rng = np.random.default_rng(args.seed)
                x = x[np.sort(rng.choice(len(x), args.max_points, replace=False))]
        measured[label] = (shape, estimate_all(
            x, estimators, repeats=args.repeats, fraction=args.fraction, levels=args.levels,
            seed=args.seed, chunk_bytes=int(args.chunk_mb * 2**20), device=args.device))
    # Every file goes to a staging directory first: --out gets all of them or none.
    with staged_files(args.out) as stage:
        for label, (shape, results) in measured.items():
            suffix = "" if len(measured) == 1 else f"_{label}"
            write_results(results, stage / JSON_NAME.replace(".json", f"{suffix}.json"),
                          input=str(args.array or args.data), measured=label, shape=shape, **context)
            _plot(results, stage / PLOT_NAME.replace(".png", f"{suffix}.png"),
                  title=f"{label}: N = {results[0].n}, D = {shape[-1] if len(shape) == 2 else shape[1:]}")
    for label, (shape, results) in measured.items():
        print(f"{label} {tuple(shape)}" + "".join(f"; {k} {v}" for k, v in context.items()))
        for r in results:
            spread = "" if r.spread is None else f" ± {r.spread:.2f}"
            kind = " (linear)" if r.linear else ""
            print(f"  {r.estimator:>6}{kind}: {r.value:.2f}{spread}   (N = {r.n})")
    print(f"wrote {JSON_NAME[:-5]}*.json and *.png to {args.out}")
    return 0


def _inputs(args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """{label: (N, ...) array} to measure, and context numbers (latent_dim, active units)."""
    path = args.array
    if path is None:
        if args.data is None:
            raise UserError("give an array / cache / checkpoint path, or --data SOURCE")
        from autoenc.cli._data import build_datamodule

        dm = build_datamodule(args, num_workers=0)
        return {"images": _flat_images(dm.arrays(args.split).images)}, {}
    if path.is_dir() and (path / "meta.json").is_file() and (path / "features.npy").is_file():
        from autoenc.features.cache import open_cache

        return {"features": open_cache(path).features}, {}
    if path.suffix == ".npy" or (path.is_file() and path.suffix != ".ckpt"):
        return {"array": load_array(path)}, {}
    return _checkpoint_inputs(args)


def _checkpoint_inputs(args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from autoenc.analysis.latents import active_units, encode_all, is_variational
    from autoenc.training.runs import check_input_shape, load_run

    model, dm, ckpt = load_run(args.array, num_workers=0)
    if args.data is not None or args.overrides:
        from autoenc.cli.look import datamodule_for

        dm = datamodule_for(args, Path(ckpt))  # --set alone edits the run's own data options
        check_input_shape(model, dm.input_shape)
    images = dm.arrays(args.split).images
    codes = encode_all(model, images).numpy()
    context: dict[str, Any] = {"latent_dim": model.latent_dim}
    if is_variational(model):
        context["active_units"] = active_units(model, images)
    return {"images": _flat_images(images), "codes": codes}, context


def _flat_images(images: Any) -> Any:
    """uint8 (N, C, H, W) -> float32 (N, C*H*W) in [0, 1]."""
    return (images.reshape(len(images), -1).float() / 255.0).numpy()


def load_array(path: Path) -> Any:
    """The array in a .npy file, memory-mapped; one-line errors for missing or bad files."""
    import numpy as np

    if not path.is_file():
        raise UserError(f"array file {str(path)!r} not found; pass a .npy file saved with np.save")
    with open(path, "rb") as f:
        if f.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise UserError(f"{str(path)!r} is not a .npy file (no NumPy header); pass an array saved with "
                            "np.save, a feature cache directory or a checkpoint")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(
            f"{str(path)!r} is not a numeric .npy array ({reason}); save one with np.save"
        ) from None
    except OSError as err:
        raise UserError(f"cannot read {str(path)!r} as .npy: {err}") from None


def _estimator_parameters(args: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """{estimator: {parameter: value}} for the flags given; a flag for an estimator not
    requested is an error rather than silently ignored."""
    params: dict[str, dict[str, Any]] = {}
    for dest, (name, parameter) in _ESTIMATOR_FLAGS.items():
        value = getattr(args, dest)
        if value is None:
            continue
        if name not in names:
            flag = "--" + dest.replace("_", "-")
            raise UserError(
                f"{flag} sets {name}, which is not among --estimators {','.join(names)}"
            )
        params.setdefault(name, {})[parameter] = value
    return params


def _plot(results: Any, path: Path, title: str) -> Path:
    from autoenc.analysis.plots.intrinsic_dim import plot_id_results

    fig = plot_id_results(results, title=title)
    fig.savefig(path, dpi=120)
    return path
