"""``autoenc reconstruct | traverse | sample | interpolate | latent-map``: look inside a model.

Each command takes a checkpoint or a run directory (its best checkpoint), reads images of one
split of the run's own data (the ``--data.*`` options given override it), and writes its
pictures into ``--out`` (default ``<run>/look``). Options are checked and everything is computed
before the first file is written, so an error leaves nothing behind. Each command is generated
(:mod:`autoenc.cli._generate`) from the typed function below that it calls.

    autoenc traverse runs/digits_vae/version_0 --dims [0,3] --steps 9 --indices [4,17]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import (
    COUNT,
    FLAG,
    INDEX,
    INDICES,
    NAME,
    OPTIONAL_PATH,
    PATH,
    POSITIVE,
    SEED,
    SPLIT,
    Ints,
)
from autoenc.core.constraints import POSITIVE_INT, Constraint, Interval, ListOf, Null
from autoenc.core.defaults import DEFAULT_BATCH_SIZE

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule

#: GIF frame durations (ms) a GIF can hold: 16-bit centiseconds, and browsers clamp below 10 ms.
FRAME_MS = Interval(int, 10, 655_350, note="GIF frame times are 16-bit centiseconds")
#: The ``Args:`` lines of the options every look command shares (appended to each docstring).
COMMON_ARGS = """
        run: a .ckpt file, or a run directory (uses its best checkpoint).
        out: output directory (default: <run>/{out}).
        split: which images.
        seed: seed of every random choice, in [0, 2**32).
        batch_size: images per encoder/decoder call.
        data: data to use instead of the run's own (only the options given override it)."""


#: The constraints of the options every look command shares.
COMMON_PARAMS: dict[str, list[Constraint]] = {"run": [PATH], "out": OPTIONAL_PATH, "split": SPLIT, "seed": [SEED],
                                              "batch_size": [POSITIVE_INT]}
STEPS = [Interval(int, 2, None, closed="left", note="both ends of the range")]


def look_command(name: str, out: str = "look", **params: list[Constraint]) -> Callable[[Callable[..., int]], Generated]:
    """Decorator: the function's docstring gets the shared options' help, and the function
    becomes the generated command ``autoenc NAME`` with the constraints ``params`` of its own
    options (the function itself stays at ``.function``)."""
    def make(function: Callable[..., int]) -> Generated:
        function.__doc__ = (function.__doc__ or "").rstrip() + COMMON_ARGS.format(out=out) + "\n"
        return Generated(function, f"autoenc {name}", positional=("run",), run="run", data="optional",
                         params={**COMMON_PARAMS, **params})
    return make


def load_for_look(run: str, out: Path | None, split: str, batch_size: int, seed: int, data: Any,
                  out_name: str = "look") -> tuple[Any, Any, Path]:
    """(model, ImageArrays of ``split``, output directory) for the common options. Refuses an
    output directory that cannot be created before anything is loaded."""
    from autoenc.render.pictures import check_out_dir
    from autoenc.runs.checkpoints import resolve_checkpoint
    from autoenc.runs.run import open_with_data, run_directory

    directory = check_out_dir(out if out is not None else run_directory(resolve_checkpoint(run)) / out_name)
    opened, dm = open_with_data(run, data)
    return opened.model, dm.arrays(split), directory


def finish(pictures: list, out: Path) -> int:
    """Write ``pictures`` into ``out``: all of them or, on any failure, none (and no directory
    created for them); then name each file written."""
    from autoenc.core.atomic import staged_files
    from autoenc.render.pictures import write_pictures

    with staged_files(out) as stage:
        names = [path.name for path in write_pictures(pictures, stage)]
    for name in names:
        print(f"wrote {out / name}")
    return 0


# -- the commands -------------------------------------------------------------------------------
@look_command("reconstruct", indices=INDICES, count=COUNT, columns=COUNT)
def reconstruct(run: str, *, out: Path | None = None, split: Literal["train", "val"] = "val", seed: int = 0,
                batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None,
                indices: Ints | None = None, count: int = 16, columns: int = 8) -> int:
    """Inputs above their reconstructions, each with its reconstruction term in nats.

    Writes reconstructions.png.

    Args:
        indices: image indices in the split, e.g. [0, 5] (default: random).
        count: random images when no --indices.
        columns: images per row."""
    from autoenc.workflows.views import reconstructions_view

    model, images, directory = load_for_look(run, out, split, batch_size, seed, data)
    return finish(reconstructions_view(model, images, indices, count, seed, columns, batch_size), directory)


@look_command("traverse", dims=INDICES, top=[POSITIVE_INT, Null()], steps=STEPS, sigma=[POSITIVE], indices=INDICES,
              count=[INDEX], mean=[FLAG], gif_steps=STEPS, frame_ms=[FRAME_MS])
def traverse(run: str, *, out: Path | None = None, split: Literal["train", "val"] = "val", seed: int = 0,
             batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None,
             dims: Ints | None = None, top: int | None = None, steps: int = 9, sigma: float = 3.0,
             indices: Ints | None = None, count: int = 2, mean: bool = True, gif_steps: int = 16,
             frame_ms: int = 100) -> int:
    """Latent traversals: each chosen dimension swept across its range from base codes, most informative first.

    Writes traversal.png and traversal.gif.

    Args:
        dims: latent dimensions, e.g. [0, 3] (default: all).
        top: show only the TOP most informative of them.
        steps: values per dimension in the grid.
        sigma: range in prior standard deviations (VAE) or the matching quantiles of the codes (AE).
        indices: base images: indices in the split.
        count: random base images when no --indices.
        mean: also use the mean code as a base.
        gif_steps: values per sweep in the GIF; frames = 2 * (gif steps - 1).
        frame_ms: GIF frame duration, ms."""
    from autoenc.workflows.views import traversal_view

    model, images, directory = load_for_look(run, out, split, batch_size, seed, data)
    pictures = traversal_view(model, images, dims, steps, sigma, indices, count, seed, mean, top, gif_steps,
                              frame_ms, batch_size=batch_size)
    return finish(pictures, directory)


@look_command("sample", count=COUNT)
def sample(run: str, *, out: Path | None = None, split: Literal["train", "val"] = "val", seed: int = 0,
           batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None, count: int = 64) -> int:
    """Decode codes drawn from the prior (VAE) or from a Gaussian fitted to the codes of the split (AE).

    Writes samples.png.

    Args:
        count: number of samples."""
    from autoenc.workflows.views import samples_view

    model, images, directory = load_for_look(run, out, split, batch_size, seed, data)
    return finish(samples_view(model, images, count, seed, batch_size=batch_size), directory)


@look_command("interpolate", pairs=[ListOf(ListOf(INDEX, length=2)), Null()], count=COUNT, steps=STEPS,
              method=[NAME, Null()])
def interpolate(run: str, *, out: Path | None = None, split: Literal["train", "val"] = "val", seed: int = 0,
                batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None,
                pairs: list[tuple[int, int]] | None = None, count: int = 4, steps: int = 10,
                method: str | None = None) -> int:
    """Decode paths between the codes of pairs of images (linear; spherical for a VAE by default).

    Writes interpolation.png.

    Args:
        pairs: image index pairs in the split, e.g. [[0, 5], [3, 7]] (default: random).
        count: random pairs when no --pairs.
        steps: points on each path.
        method: linear or slerp (default: slerp for a VAE, linear otherwise)."""
    from autoenc.measure.generate import INTERPOLATIONS
    from autoenc.workflows.views import interpolation_view

    if method is not None:
        INTERPOLATIONS.get(method)  # an unknown name lists the known ones
    model, images, directory = load_for_look(run, out, split, batch_size, seed, data)
    pictures = interpolation_view(model, images, pairs, count, seed, steps, method, batch_size)
    return finish(pictures, directory)


@look_command("latent-map", method=[NAME], color_by=[NAME, Null()],
              max_points=[Interval(int, 2, None, closed="left")])
def latent_map(run: str, *, out: Path | None = None, split: Literal["train", "val"] = "val", seed: int = 0,
               batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None,
               method: str = "pca", color_by: str | None = None, max_points: int = 5000) -> int:
    """2-D projection of the codes of the split, coloured by class label or, for factor data (sprites), by one factor.

    Writes latent_map.png.

    Args:
        method: projection: pca or tsne.
        color_by: label, or a factor name for factor data (default: label / first factor).
        max_points: seeded random subset drawn."""
    from autoenc.measure.latent_map import PROJECTIONS
    from autoenc.workflows.views import latent_map_view

    PROJECTIONS.get(method)  # an unknown name lists the known ones
    model, images, directory = load_for_look(run, out, split, batch_size, seed, data)
    pictures = latent_map_view(model, images, method, color_by, seed, max_points, batch_size=batch_size)
    return finish(pictures, directory)
