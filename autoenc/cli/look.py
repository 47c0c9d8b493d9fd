"""``autoenc reconstruct | traverse | sample | interpolate | latent-map``: look inside a model.

Each command takes a checkpoint or a run directory (its best checkpoint), reads images of
one split of the run's own data (or of ``--data``/``--set``), and writes its pictures into
``--out`` (default ``<run>/look``). Options are checked and everything is computed before
the first file is written, so an error leaves nothing behind.

    autoenc traverse runs/digits_vae/version_0 --dims 0,3 --steps 9 --indices 4,17
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from autoenc.cli._args import ArgumentParser, parse_int_list, seed
from autoenc.errors import UserError

DEFAULT_BATCH_SIZE = 512
#: GIF frame durations (ms) a GIF can hold: 16-bit centiseconds, and browsers clamp below 10 ms.
MIN_FRAME_MS, MAX_FRAME_MS = 10, 655_350


# -- shared options ---------------------------------------------------------------------------
def base_parser(prog: str, description: str, out_help: str = "look") -> ArgumentParser:
    """A parser with the options every look command takes (checkpoint, --out, --split, data)."""
    p = ArgumentParser(prog=f"autoenc {prog}", description=description)
    p.add_argument("checkpoint", help="a .ckpt file, or a run directory (uses its best checkpoint)")
    p.add_argument("--out", default=None, help=f"output directory (default: <run>/{out_help})")
    p.add_argument("--split", choices=("train", "val"), default="val", help="which images (default: %(default)s)")
    p.add_argument("--seed", type=seed, default=0, help="seed of every random choice (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help="images per encoder/decoder call (default: %(default)s)")
    add_data_options(p)
    return p


def add_data_options(parser: ArgumentParser) -> None:
    """``--data SOURCE|YAML`` and ``--set KEY=VALUE``; without them, the run's own data."""
    from autoenc.cli._data import add_data_arguments

    add_data_arguments(parser, default=None)
    parser._option_string_actions["--data"].help = (
        "data to use instead of the run's own: a source name (see `autoenc sources`) or a YAML "
        "file (an `autoenc fit` config or a data section); --set alone overrides the run's own")


def int_list(text: str | None, what: str) -> list[int] | None:
    return None if text is None else parse_int_list(text, what)


def parse_pairs(text: str | None) -> list[tuple[int, int]] | None:
    """"0:5,3:7" -> [(0, 5), (3, 7)]."""
    if text is None:
        return None
    pairs = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        a, sep, b = item.partition(":")
        try:
            if not sep:
                raise ValueError
            pairs.append((int(a), int(b)))
        except ValueError:
            raise UserError(f"--pairs must look like 0:5,3:7 (image index pairs), got {text!r}") from None
    if not pairs:
        raise UserError(f"--pairs must look like 0:5,3:7 (image index pairs), got {text!r}")
    return pairs


def positive(value: int, flag: str) -> int:
    if value < 1:
        raise UserError(f"{flag} must be >= 1, got {value}")
    return value


def load_for_look(args: argparse.Namespace, out_name: str = "look") -> tuple[Any, Any, Path]:
    """(model, ImageArrays of ``args.split``, output directory) for parsed common options.
    Refuses an output directory that cannot be created before anything is loaded."""
    from autoenc.analysis.look import check_out_dir, run_directory
    from autoenc.training.checkpoints import load_model, resolve_checkpoint
    from autoenc.training.runs import check_input_shape

    positive(args.batch_size, "--batch-size")
    ckpt = resolve_checkpoint(args.checkpoint)
    out = check_out_dir(args.out if args.out is not None else run_directory(ckpt) / out_name)
    model = load_model(ckpt)
    dm = datamodule_for(args, ckpt)
    check_input_shape(model, dm.input_shape)
    return model, dm.arrays(args.split), out


def datamodule_for(args: argparse.Namespace, ckpt: Path) -> Any:
    """The run's own data module, or the one ``--data`` / ``--set`` describe (``--set`` alone
    overrides the run's own data options)."""
    from autoenc.cli._data import apply_override, build_datamodule, instantiate_datamodule
    from autoenc.training.runs import datamodule_from_checkpoint

    overrides = getattr(args, "overrides", None) or []
    if args.data is not None:
        return build_datamodule(args)
    if not overrides:
        return datamodule_from_checkpoint(ckpt)
    section = run_data_section(ckpt)
    for item in overrides:
        apply_override(section, item)
    return instantiate_datamodule(section)


def run_data_section(ckpt: Path) -> dict[str, Any]:
    """The checkpoint's data options as a ``data:`` mapping that ``--set`` can edit."""
    from autoenc.data import SOURCES
    from autoenc.errors import CheckpointError
    from autoenc.training.checkpoints import datamodule_config

    hp = datamodule_config(ckpt)
    if not hp or "source" not in hp:
        raise CheckpointError(f"{str(ckpt)!r} does not record its data; pass --data")
    section = {k: v for k, v in hp.items() if not k.startswith("_")}
    cls = SOURCES.get(section["source"]["name"])
    section["source"] = {"class_path": f"{cls.__module__}.{cls.__qualname__}",
                         "init_args": dict(section["source"].get("options") or {})}
    return section


def finish(pictures: list, out: Path) -> int:
    """Write ``pictures`` into ``out``: all of them or, on any failure, none (and no directory
    created for them); then name each file written."""
    from autoenc.analysis.look import write_pictures
    from autoenc.atomic import staged_files

    with staged_files(out) as stage:
        names = [path.name for path in write_pictures(pictures, stage)]
    for name in names:
        print(f"wrote {out / name}")
    return 0


# -- the commands -------------------------------------------------------------------------------
def reconstruct(argv: list[str]) -> int:
    """``autoenc reconstruct RUN [--indices 0,5 | --count 16] [--split val] [--out DIR]``."""
    p = base_parser("reconstruct", "Inputs above their reconstructions, each with its reconstruction "
                                   "term in nats. Writes reconstructions.png.")
    p.add_argument("--indices", help="comma-separated image indices in the split (default: random)")
    p.add_argument("--count", type=int, default=16, help="random images when no --indices (default: %(default)s)")
    p.add_argument("--ncol", type=int, default=8, help="images per row (default: %(default)s)")
    args = p.parse_args(argv)
    indices = int_list(args.indices, "--indices")
    positive(args.count, "--count")
    positive(args.ncol, "--ncol")
    from autoenc.analysis.look import reconstructions_view

    model, data, out = load_for_look(args)
    return finish(reconstructions_view(model, data, indices, args.count, args.seed, args.ncol, args.batch_size), out)


def traverse(argv: list[str]) -> int:
    """``autoenc traverse RUN [--dims 0,3] [--steps 9] [--range 3] [--indices 4,17]``."""
    p = base_parser("traverse", "Latent traversals: each chosen dimension swept across its range from "
                                "base codes, most informative first. Writes traversal.png and traversal.gif.")
    p.add_argument("--dims", help="comma-separated latent dimensions (default: all)")
    p.add_argument("--top", type=int, help="show only the TOP most informative of them")
    p.add_argument("--steps", type=int, default=9, help="values per dimension in the grid (default: %(default)s)")
    p.add_argument("--range", dest="sigma", type=float, default=3.0,
                   help="range in prior standard deviations (VAE) or the matching quantiles of the "
                        "codes (AE) (default: %(default)s)")
    p.add_argument("--indices", help="base images: comma-separated indices in the split")
    p.add_argument("--count", type=int, default=2, help="random base images when no --indices (default: %(default)s)")
    p.add_argument("--no-mean", dest="mean", action="store_false", help="do not use the mean code as a base")
    p.add_argument("--gif-steps", type=int, default=16,
                   help="values per sweep in the GIF; frames = 2 * (gif steps - 1) (default: %(default)s)")
    p.add_argument("--frame-ms", type=int, default=100, help="GIF frame duration (default: %(default)s)")
    args = p.parse_args(argv)
    from autoenc.analysis.look import traversal_view
    from autoenc.analysis.traverse import check_steps, tail_probability

    dims, indices = int_list(args.dims, "--dims"), int_list(args.indices, "--indices")
    check_steps(args.steps, "--steps")
    check_steps(args.gif_steps, "--gif-steps")
    tail_probability(args.sigma)
    if args.top is not None:
        positive(args.top, "--top")
    if args.count < 0:
        raise UserError(f"--count must be >= 0, got {args.count}")
    if not MIN_FRAME_MS <= args.frame_ms <= MAX_FRAME_MS:
        raise UserError(f"--frame-ms must be in [{MIN_FRAME_MS}, {MAX_FRAME_MS}] (GIF frame times are 16-bit "
                        f"centiseconds), got {args.frame_ms}")
    if not math.isfinite(args.sigma):
        raise UserError(f"--range must be a finite number of standard deviations, got {args.sigma}")
    model, data, out = load_for_look(args)
    pictures = traversal_view(model, data, dims, args.steps, args.sigma, indices, args.count, args.seed, args.mean,
                              args.top, args.gif_steps, args.frame_ms, batch_size=args.batch_size)
    return finish(pictures, out)


def sample(argv: list[str]) -> int:
    """``autoenc sample RUN [--count 64] [--seed 0]``."""
    p = base_parser("sample", "Decode codes drawn from the prior (VAE) or from a Gaussian fitted to the "
                              "codes of the split (AE). Writes samples.png.")
    p.add_argument("--count", type=int, default=64, help="number of samples (default: %(default)s)")
    args = p.parse_args(argv)
    positive(args.count, "--count")
    from autoenc.analysis.look import samples_view

    model, data, out = load_for_look(args)
    return finish(samples_view(model, data, args.count, args.seed, batch_size=args.batch_size), out)


def interpolate(argv: list[str]) -> int:
    """``autoenc interpolate RUN [--pairs 0:5,3:7 | --count 4] [--steps 10] [--method slerp]``."""
    from autoenc.analysis.generate import INTERPOLATIONS

    p = base_parser("interpolate", "Decode paths between the codes of pairs of images (linear; spherical "
                                   "for a VAE by default). Writes interpolation.png.")
    p.add_argument("--pairs", help="image index pairs in the split, e.g. 0:5,3:7 (default: random)")
    p.add_argument("--count", type=int, default=4, help="random pairs when no --pairs (default: %(default)s)")
    p.add_argument("--steps", type=int, default=10, help="points on each path (default: %(default)s)")
    p.add_argument("--method", choices=INTERPOLATIONS.list(), help="default: slerp for a VAE, linear otherwise")
    args = p.parse_args(argv)
    from autoenc.analysis.look import interpolation_view
    from autoenc.analysis.traverse import check_steps

    pairs = parse_pairs(args.pairs)
    check_steps(args.steps, "--steps")
    positive(args.count, "--count")
    model, data, out = load_for_look(args)
    pictures = interpolation_view(model, data, pairs, args.count, args.seed, args.steps, args.method, args.batch_size)
    return finish(pictures, out)


def latent_map(argv: list[str]) -> int:
    """``autoenc latent-map RUN [--method pca|tsne] [--color-by NAME]``."""
    from autoenc.analysis.latent_map import PROJECTIONS

    p = base_parser("latent-map", "2-D projection of the codes of the split, coloured by class label or, "
                                  "for factor data (sprites), by one factor. Writes latent_map.png.")
    p.add_argument("--method", choices=PROJECTIONS.list(), default="pca", help="projection (default: %(default)s)")
    p.add_argument("--color-by", help="label, or a factor name for factor data (default: label / first factor)")
    p.add_argument("--max-points", type=int, default=5000, help="seeded random subset drawn (default: %(default)s)")
    args = p.parse_args(argv)
    if args.max_points < 2:
        raise UserError(f"--max-points must be >= 2, got {args.max_points}")
    from autoenc.analysis.look import latent_map_view

    model, data, out = load_for_look(args)
    pictures = latent_map_view(model, data, args.method, args.color_by, args.seed, args.max_points,
                               batch_size=args.batch_size)
    return finish(pictures, out)
