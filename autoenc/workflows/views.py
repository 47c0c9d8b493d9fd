"""Views of the bottleneck, composed: analysis -> picture -> file, for the CLI and the report.

Each ``*_view`` function takes a model and the images of one split (:class:`ImageArrays`),
validates its options, computes and draws everything in memory and returns the
:class:`Picture` objects to write; nothing touches the disk until :func:`write_pictures`, so
a bad option never leaves a half-written output behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from autoenc.core.errors import UserError
from autoenc.data.source import ImageArrays
from autoenc.measure.codes import (
    DEFAULT_BATCH_SIZE,
    LatentStats,
    check_dims,
    code_size,
    encode_all,
    latent_stats,
)
from autoenc.measure.generate import INTERPOLATIONS, default_interpolation, interpolate, sample
from autoenc.measure.latent_map import PROJECTIONS, colour_by, latent_map
from autoenc.measure.reconstruction import choose_indices, reconstruct
from autoenc.measure.traversal import DEFAULT_SIGMA, check_steps, tail_probability, traverse
from autoenc.models.autoencoder_module import AutoencoderModule
from autoenc.render.pictures import Picture, check_out_dir, write_pictures
from autoenc.runs.run import Run, check_input_shape

#: GIF steps per sweep: 2 * (16 - 1) = 30 frames forth and back.
GIF_STEPS = 16


# -- the views ------------------------------------------------------------------------------
def reconstructions_view(model: AutoencoderModule, data: ImageArrays, indices: list[int] | None = None,
                         count: int = 16, seed: int = 0, ncol: int = 8,
                         batch_size: int = DEFAULT_BATCH_SIZE) -> list[Picture]:
    """``reconstructions.png``: chosen (``indices``) or ``count`` random images of the split."""
    from autoenc.render.look_figures import reconstruction_figure

    idx = choose_indices(len(data), indices, count, seed)
    rec = reconstruct(model, data.images[idx.to(data.images.device)], idx, batch_size)
    return [Picture("reconstructions.png", reconstruction_figure(rec, ncol))]


def base_codes(model: AutoencoderModule, data: ImageArrays, stats: LatentStats, indices: list[int] | None,
               count: int, seed: int, mean: bool, batch_size: int = DEFAULT_BATCH_SIZE
               ) -> tuple[torch.Tensor, list[str]]:
    """(B, D) base codes for traversals and their names: the mean code (when ``mean``), then the
    codes of the chosen (``indices``) or ``count`` random images."""
    codes, names = [], []
    if mean:
        codes.append(stats.codes.mean(0, keepdim=True))
        names.append("mean code")
    if indices is not None or count > 0:
        idx = choose_indices(len(data), indices, count, seed)
        codes.append(encode_all(model, data.images[idx.to(data.images.device)], batch_size))
        names += [f"image #{i}" for i in idx.tolist()]
    if not codes:
        raise UserError("no base code: use the mean code, give --indices or a --count > 0")
    return torch.cat(codes), names


def traversal_view(model: AutoencoderModule, data: ImageArrays, dims: list[int] | None = None, steps: int = 9,
                   sigma: float = DEFAULT_SIGMA, indices: list[int] | None = None, count: int = 2, seed: int = 0,
                   mean: bool = True, top: int | None = None, gif_steps: int = GIF_STEPS,
                   duration_ms: int = 100, stats: LatentStats | None = None,
                   batch_size: int = DEFAULT_BATCH_SIZE) -> list[Picture]:
    """``traversal.png`` (rows = dimensions, columns = steps, bases side by side) and
    ``traversal.gif`` (2 * (gif_steps - 1) frames). ``stats`` default to the codes of ``data``."""
    from autoenc.render.look_figures import traversal_figure, traversal_frames

    check_steps(steps)
    check_steps(gif_steps, "gif steps")
    tail_probability(sigma)
    check_dims(dims, code_size(model))
    stats = stats or latent_stats(model, data.images, batch_size)
    bases, names = base_codes(model, data, stats, indices, count, seed, mean, batch_size)
    grid = traverse(model, stats, bases, names, dims, steps, sigma, top, batch_size)
    anim = traverse(model, stats, bases, names, dims, gif_steps, sigma, top, batch_size)
    return [Picture("traversal.png", traversal_figure(grid)),
            Picture("traversal.gif", traversal_frames(anim), duration_ms)]


def samples_view(model: AutoencoderModule, data: ImageArrays, count: int = 64, seed: int = 0,
                 stats: LatentStats | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> list[Picture]:
    """``samples.png``: ``count`` samples (prior for a VAE, a Gaussian fitted to the codes of
    ``data`` for an AE)."""
    from autoenc.render.look_figures import samples_figure

    codes = None
    if not model.has_prior:
        codes = stats.codes if stats is not None else encode_all(model, data.images, batch_size)
    return [Picture("samples.png", samples_figure(sample(model, count, seed, codes, batch_size)))]


def choose_pairs(n: int, pairs: list[tuple[int, int]] | None, count: int, seed: int) -> torch.Tensor:
    """(P, 2) index pairs: the given ones (checked against ``n``), else ``count`` random pairs
    of distinct images drawn with ``seed``."""
    if pairs is not None:
        choose_indices(n, [i for pair in pairs for i in pair])  # range check with the standard message
        return torch.tensor(pairs, dtype=torch.int64).reshape(-1, 2)
    if count < 1:
        raise UserError(f"count must be >= 1 pair, got {count}")
    if n < 2:
        raise UserError(f"need at least 2 images to interpolate, the split has {n}")
    g = torch.Generator().manual_seed(seed)
    if 2 * count <= n:  # no image in two pairs
        return torch.randperm(n, generator=g)[: 2 * count].reshape(count, 2)
    return torch.stack([torch.randperm(n, generator=g)[:2] for _ in range(count)])


def interpolation_view(model: AutoencoderModule, data: ImageArrays, pairs: list[tuple[int, int]] | None = None,
                       count: int = 4, seed: int = 0, steps: int = 10, method: str | None = None,
                       batch_size: int = DEFAULT_BATCH_SIZE) -> list[Picture]:
    """``interpolation.png``: one row per pair of images (given, or ``count`` random pairs)."""
    from autoenc.render.look_figures import interpolation_figure

    check_steps(steps)
    INTERPOLATIONS.get(method or default_interpolation(model))  # an unknown name, before any work
    idx = choose_pairs(len(data), pairs, count, seed)
    images = data.images[idx.to(data.images.device)]
    interp = interpolate(model, images[:, 0], images[:, 1], steps, method, idx, batch_size)
    return [Picture("interpolation.png", interpolation_figure(interp))]


def latent_map_view(model: AutoencoderModule, data: ImageArrays, method: str = "pca", color_by: str | None = None,
                    seed: int = 0, max_points: int | None = 5000, stats: LatentStats | None = None,
                    batch_size: int = DEFAULT_BATCH_SIZE) -> list[Picture]:
    """``latent_map.png``: the codes of ``data`` projected to 2-D, coloured by label/factor."""
    from autoenc.render.charts import latent_map_figure

    PROJECTIONS.get(method)
    colouring = colour_by(data.targets, data.target_names, color_by)
    codes = stats.codes if stats is not None else encode_all(model, data.images, batch_size)
    m = latent_map(codes, colouring, method, seed, max_points)
    split = data.description.get("split", "")
    what = f"{data.description.get('source', 'data')} {split}".strip()
    title = f"Codes of {len(m.points)} {what} images ({code_size(model)}-D), {method.upper()}"
    return [Picture("latent_map.png", latent_map_figure(m, title))]


# -- the report -----------------------------------------------------------------------------
def write_report(run: str | os.PathLike | Run, out: str | os.PathLike | None = None, seed: int = 0,
                 tsne: bool = False, color_by: str | None = None, datamodule: Any = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> Path:
    """Write every view of a run's model on its validation split, ``training_curve.png``,
    ``summary.json`` and ``report.md`` into ``out`` (default ``<run>/report``).

    Args:
        run: a run directory, a checkpoint, or an opened :class:`~autoenc.runs.run.Run`.
        tsne: also draw a t-SNE map (``latent_map_tsne.png``; slower).
        datamodule: data to use instead of the run's own (an ImageDataModule).
    Returns:
        The path of ``report.md``.
    """
    import json

    from autoenc.core.atomic import atomic_file
    from autoenc.measure.summary import read_training_curve, summarize
    from autoenc.render.report_page import render_markdown
    from autoenc.workflows.disentangle_run import disentanglement_section

    opened = run if isinstance(run, Run) else Run.open(run)  # the checkpoint is read once
    ckpt, run_dir, model = opened.checkpoint, opened.path, opened.model
    out_dir = check_out_dir(out if out is not None else run_dir / "report")
    dm = datamodule if datamodule is not None else opened.datamodule
    check_input_shape(model, dm.input_shape)
    val = dm.arrays("val")
    stats = latent_stats(model, val.images, batch_size)
    top = 12 if code_size(model) > 12 else None
    pictures = [
        *reconstructions_view(model, val, count=16, seed=seed, batch_size=batch_size),
        *traversal_view(model, val, seed=seed, top=top, stats=stats, batch_size=batch_size),
        *samples_view(model, val, count=64, seed=seed, stats=stats, batch_size=batch_size),
        *interpolation_view(model, val, count=4, seed=seed, batch_size=batch_size),
        *latent_map_view(model, val, color_by=color_by, seed=seed, stats=stats, batch_size=batch_size),
    ]
    if tsne:
        tsne_map = latent_map_view(model, val, "tsne", color_by, seed, 2000, stats, batch_size)[0]
        pictures.append(Picture("latent_map_tsne.png", tsne_map.data))
    section = disentanglement_section(model, dm, seed, batch_size=batch_size)  # data with true factors only
    if section is not None:
        pictures += section.pictures
    curve = read_training_curve(run_dir)
    if curve is not None and curve.series:
        from autoenc.render.charts import training_curve_figure

        pictures.append(Picture("training_curve.png", training_curve_figure(curve)))
    source = val.description.get("source", "data")
    summary = summarize(model, val.images, stats, f"{source}, validation split, {len(val)} images", str(ckpt),
                        opened.epoch, opened.global_step, seed, batch_size=batch_size)
    notes = _report_notes(stats, top)
    if section is not None:
        notes = {**notes, **section.notes}
    markdown = render_markdown(summary, str(run_dir), [p.name for p in pictures], notes,
                               section.scores if section is not None else None)
    if tsne:
        markdown += "\n![t-SNE map of the codes](latent_map_tsne.png)\n"
    write_pictures(pictures, out_dir)
    with atomic_file(out_dir / "summary.json", "w") as f:
        json.dump(summary.as_dict(), f, indent=2)
        f.write("\n")
    with atomic_file(out_dir / "report.md", "w") as f:
        f.write(markdown)
    return out_dir / "report.md"


def _report_notes(stats: LatentStats, top: int | None) -> dict[str, str]:
    measure = "KL to the prior (nats)" if stats.variational else "variance of the codes"
    shown = f"the {top} most informative" if top else "all"
    return {
        "traversal.png": f"Rows: {shown} latent dimensions ordered by {measure}; a row that does not "
                         "change is a dimension the decoder ignores. Bases: the mean code and two "
                         "validation images.",
        "samples.png": "From the prior N(0, I)." if stats.variational else
                       "From a Gaussian fitted to the validation codes (a plain autoencoder has no prior).",
        "latent_map.png": "First two principal components of the validation codes.",
    }
