"""``autoenc id``: intrinsic dimension of codes, images, caches or arrays -> JSON + plot.

    autoenc id codes.npy --out runs/id [--estimators [twonn,mle]] [--k 20] [--repeats 5]
    autoenc id runs/digits_vae/version_0 --out runs/id     # raw images and codes side by side
    autoenc id features/cache_dir --out runs/id             # a feature cache
    autoenc id --data.source digits --data.image_size 16 --out runs/id   # raw images of a source
    autoenc id runs/digits_ae/version_0 --layers all --out runs/id_layers  # TwoNN layer by layer

An array is (N, D) points or (N, C, H, W) images (flattened). For a checkpoint or run
directory the validation split of the run's data (its data options, of which those given
override) is measured twice: the raw images and the model's codes, reported with latent_dim
and, for a VAE, active units. The command is generated from :func:`intrinsic_dim`'s
signature (:mod:`autoenc.cli._generate`); the estimates are
:func:`autoenc.measure.intrinsic_dim.estimate_all`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import (
    NAME,
    OPTIONAL_COUNT,
    OPTIONAL_PATH,
    PATH,
    POSITIVE,
    SEED,
    SPLIT_OR_ALL,
    Names,
    check_device,
)
from autoenc.core.constraints import POSITIVE_INT, Interval, ListOf, Null, Options
from autoenc.core.errors import UserError, first_line

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule

JSON_NAME = "intrinsic_dim.json"
PLOT_NAME = "intrinsic_dim.png"
NPY_MAGIC = b"\x93NUMPY"  # the first bytes of every .npy file (numpy.lib.format)

# option -> (estimator, parameter); an option left unset keeps the estimator's default.
_ESTIMATOR_OPTIONS = {
    "discard_fraction": ("twonn", "discard_fraction"),
    "k": ("mle", "k"),
    "n1": ("gride", "n1"),
    "max_rank": ("gride", "max_rank"),
    "variance": ("pca", "variance"),
}


def intrinsic_dim(
    path: Path | None = None,
    *,
    out: Path,
    data: ImageDataModule | None = None,
    split: Literal["train", "val", "all"] = "val",
    estimators: Names = Names(["twonn", "mle", "gride", "pca"]),  # noqa: B008 (read only; shown in --help)
    k: int | None = None,
    discard_fraction: float | None = None,
    n1: int | None = None,
    max_rank: int | None = None,
    variance: float | None = None,
    repeats: int = 5,
    fraction: float = 0.5,
    levels: int = 4,
    seed: int = 0,
    max_points: int | None = None,
    chunk_mb: float = 256,
    device: str | None = None,
    layers: str | None = None,
    weights: str | None = None,
    resize: int | None = None,
) -> int:
    """Intrinsic dimension of an array, a feature cache, a run's images and codes, or a data source.

    Several estimators, error bars from repeated subsamples and scale curves; writes
    intrinsic_dim.json and intrinsic_dim.png to --out. For a checkpoint or run directory the
    split of the run's data (its data options, or those given) is measured twice: the raw
    images and the model's codes, with latent_dim and, for a VAE, active units.

    Args:
        path: .npy file ((N, D) points or (N, C, H, W) images), a feature cache directory, or a
            checkpoint / run directory; omit it to measure the images of --data.*
        out: output directory (created).
        data: the images to measure (without PATH), or to use instead of the run's own.
        split: data split for a checkpoint or --data.*
        estimators: estimators to run, e.g. [twonn, mle].
        k: mle: neighbours per point (default 20).
        discard_fraction: twonn: largest ratios dropped (default 0.1).
        n1: gride: neighbour rank of the value (default 1).
        max_rank: gride: largest rank n2 on the scale curve (default 64).
        variance: pca: explained variance to reach (default 0.9).
        repeats: subsamples per size; 0: none.
        fraction: points kept per subsample, in (0, 1).
        levels: subsample sizes on the curves.
        seed: seed of the subsamples, in [0, 2**32).
        max_points: estimate on a seeded random subset of this many points (default: all).
        chunk_mb: memory per distance chunk, MiB.
        device: torch device for the neighbour search (default: cuda if present).
        layers: TwoNN layer by layer of a run or torchvision:<model> (PATH): all, or names
            separated by commas (encoder.<module>, code, decoder.<module>; torchvision node
            names); max_points defaults to 2000 then.
        weights: torchvision with --layers: weights enum name or local file (default: random).
        resize: torchvision with --layers: resize images to this square size first.
    """
    import numpy as np

    from autoenc.core.atomic import check_dir_creatable, staged_files
    from autoenc.measure.intrinsic_dim import estimate_all, make_estimator
    from autoenc.measure.intrinsic_dim.result import write_results
    from autoenc.render.id_plots import plot_id_results

    check_device(device)
    check_dir_creatable(out)
    if layers is not None:
        from autoenc.cli.id_layers import layer_profile

        return layer_profile(path, layers=layers, out=out, data=data, split=split, weights=weights, resize=resize,
                             repeats=repeats, fraction=fraction, seed=seed, max_points=max_points, device=device)
    if weights is not None or resize is not None:
        raise UserError("--weights and --resize apply only with --layers")
    inputs, context = _inputs(path, data, split)
    names = [n.strip() for n in estimators if n.strip()]
    if not names:
        raise UserError("--estimators is empty; give e.g. [twonn, mle, gride, pca]")
    given = {"k": k, "discard_fraction": discard_fraction, "n1": n1, "max_rank": max_rank, "variance": variance}
    params = _estimator_parameters(given, names)
    made = [make_estimator(n, **params.get(n, {})) for n in names]
    measured = {}
    for label, x in inputs.items():
        shape = list(x.shape)
        if max_points is not None and max_points < len(x):
            rng = np.random.default_rng(seed)
            x = x[np.sort(rng.choice(len(x), max_points, replace=False))]
        measured[label] = (shape, estimate_all(
            x, made, repeats=repeats, fraction=fraction, levels=levels,
            seed=seed, chunk_bytes=int(chunk_mb * 2**20), device=device))
    described = str(path) if path is not None else f"data.source {data.source.name}"  # type: ignore[union-attr]
    # Every file goes to a staging directory first: --out gets all of them or none.
    with staged_files(out) as stage:
        for label, (shape, results) in measured.items():
            suffix = "" if len(measured) == 1 else f"_{label}"
            write_results(results, stage / JSON_NAME.replace(".json", f"{suffix}.json"),
                          input=described, measured=label, shape=shape, **context)
            fig = plot_id_results(results, title=f"{label}: N = {results[0].n}, "
                                  f"D = {shape[-1] if len(shape) == 2 else shape[1:]}")
            fig.savefig(stage / PLOT_NAME.replace(".png", f"{suffix}.png"), dpi=120)
    for label, (shape, results) in measured.items():
        print(f"{label} {tuple(shape)}" + "".join(f"; {k} {v}" for k, v in context.items()))
        for r in results:
            spread = "" if r.spread is None else f" ± {r.spread:.2f}"
            kind = " (linear)" if r.linear else ""
            print(f"  {r.estimator:>6}{kind}: {r.value:.2f}{spread}   (N = {r.n})")
    print(f"wrote {JSON_NAME[:-5]}*.json and *.png to {out}")
    return 0


main = Generated(intrinsic_dim, "autoenc id", positional=("path",), run="path", data="optional",
                 data_defaults={"num_workers": 0},
                 params={"path": OPTIONAL_PATH, "out": [PATH], "split": SPLIT_OR_ALL,
                         "estimators": [ListOf(NAME, non_empty=True)], "k": [Interval(int, 2, None, closed="left"), Null()],
                         "discard_fraction": [Interval(float, 0, 1, closed="left"), Null()], "n1": OPTIONAL_COUNT,
                         "max_rank": [Interval(int, 2, None, closed="left"), Null()],
                         "variance": [Interval(float, 0, 1, closed="right"), Null()], "repeats": [Options([0], note="no subsamples"), Interval(int, 2, None, closed="left")],
                         "fraction": [Interval(float, 0, 1, closed="neither")], "levels": [POSITIVE_INT],
                         "seed": [SEED], "max_points": [Interval(int, 2, None, closed="left"), Null()],
                         "chunk_mb": [POSITIVE], "device": [NAME, Null()],
                         "layers": [NAME, Null()], "weights": [NAME, Null()], "resize": OPTIONAL_COUNT})


def _inputs(path: Path | None, data: Any, split: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """{label: (N, ...) array} to measure, and context numbers (latent_dim, active units)."""
    if path is None:
        if data is None:
            raise UserError("give an array / cache / checkpoint path, or the data to measure "
                            "(e.g. --data.source digits)")
        return {"images": _flat_images(data.arrays(split).images)}, {}
    if path.is_dir() and (path / "meta.json").is_file() and (path / "features.npy").is_file():
        from autoenc.features.cache import open_cache

        return {"features": open_cache(path).features}, {}
    if path.suffix == ".npy" or (path.is_file() and path.suffix != ".ckpt"):
        return {"array": load_array(path)}, {}
    return _checkpoint_inputs(path, data, split)


def _checkpoint_inputs(path: Path, data: Any, split: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from autoenc.measure.codes import active_units, encode_all
    from autoenc.runs.run import open_with_data

    opened, dm = open_with_data(path, data, num_workers=0)
    model = opened.model
    images = dm.arrays(split).images
    codes = encode_all(model, images).numpy()
    context: dict[str, Any] = {"latent_dim": model.latent_dim}
    if model.has_prior:
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
        raise UserError(f"{str(path)!r} is not a numeric .npy array ({first_line(err)}); save one with np.save") from None
    except OSError as err:
        raise UserError(f"cannot read {str(path)!r} as .npy: {err}") from None


def _estimator_parameters(given: dict[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    """{estimator: {parameter: value}} for the options given; an option for an estimator not
    requested is an error rather than silently ignored."""
    params: dict[str, dict[str, Any]] = {}
    for option, (name, parameter) in _ESTIMATOR_OPTIONS.items():
        value = given[option]
        if value is None:
            continue
        if name not in names:
            raise UserError(f"--{option} sets {name}, which is not among --estimators {','.join(names)}")
        params.setdefault(name, {})[parameter] = value
    return params

