"""Pictures of the bottleneck: reconstructions, traversals (grid + GIF frames), samples,
interpolations. Each function turns an analysis result into an (H, W, C) uint8 array (or a
list of them for a GIF); :func:`save_gif` writes frames with Pillow."""

from __future__ import annotations

import os

import numpy as np
import torch

from autoenc.core.atomic import atomic_file
from autoenc.core.errors import UserError
from autoenc.measure.generate import Interpolation, Samples
from autoenc.measure.reconstruction import Reconstructions
from autoenc.measure.traversal import Traversal
from autoenc.render.canvas import draw_grid, rows_of


def reconstruction_figure(rec: Reconstructions, ncol: int = 8, scale: int | None = None) -> np.ndarray:
    """Inputs (captioned with their index) above their reconstructions (captioned with the
    reconstruction term in nats), ``ncol`` images per row pair."""
    originals, recons = rows_of(rec.originals, ncol), rows_of(rec.recons, ncol)
    n, k = len(rec.originals), originals.shape[1]
    cells = torch.stack([originals, recons], 1).flatten(0, 1)  # (2 * rows, K, C, H, W)
    captions: list[list[str]] = []
    labels: list[str] = []
    for r in range(len(originals)):
        part = slice(r * k, min(n, (r + 1) * k))
        captions.append([f"#{i}" for i in rec.indices[part].tolist()])
        captions.append([f"{v:.1f}" for v in rec.nll[part].tolist()])
        labels += ["input", "recon"]
    title = [f"Reconstructions of {n} images: input above, reconstruction below with its",
             f"reconstruction term in nats/image (mean {rec.nll.mean().item():.2f})"]
    return draw_grid(cells, scale, title=title, row_labels=labels, captions=captions)


def traversal_figure(trav: Traversal, scale: int | None = None) -> np.ndarray:
    """Rows = dimensions (most informative first, labelled with index and informativeness),
    columns = steps; one block of columns per base code, side by side."""
    b, k, s = trav.images.shape[:3]
    cells = trav.images.permute(1, 0, 2, 3, 4, 5).reshape(k, b * s, *trav.images.shape[3:])
    labels = _dimension_labels(trav)
    col_labels = [f"{v:.2g}" for v in trav.values[0].tolist()] * b if trav.variational else None
    unit = f" ({trav.unit})" if trav.unit else ""
    title = ["Latent traversals: each row varies one dimension, the others stay at the base code;",
             f"rows ordered by {trav.measure}{unit}; range: {trav.range_text}"]
    return draw_grid(cells, scale, title=title, row_labels=labels, col_labels=col_labels,
                     group_titles=trav.base_names, group_size=s)


def traversal_frames(trav: Traversal, scale: int | None = None) -> list[np.ndarray]:
    """Animation frames: every dimension a row (panel) of the base codes side by side, all
    dimensions sweeping their range forth and back together: 2 * (S - 1) frames."""
    b, k, s = trav.images.shape[:3]
    labels = _dimension_labels(trav)
    order = list(range(s)) + list(range(s - 2, 0, -1))
    frames = []
    for step in order:
        where = f"value {trav.values[0, step].item():+.2f}" if trav.variational else "quantile range"
        title = [f"Traversal step {step + 1:>2}/{s} ({where}): rows = dimensions, columns = bases",
                 f"range: {trav.range_text}"]
        cells = trav.images[:, :, step].permute(1, 0, 2, 3, 4)  # (K, B, C, H, W)
        frames.append(draw_grid(cells, scale, title=title, row_labels=labels, col_labels=trav.base_names))
    return _same_size(frames)


def _same_size(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Pad frames with white on the right / bottom to the largest (a title can be wider in one)."""
    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    return [np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1]), (0, 0)), constant_values=255) for f in frames]


def _dimension_labels(trav: Traversal) -> list[str]:
    labels = trav.row_labels()
    if not trav.variational:  # AE ranges differ per dimension: show them
        lo, hi = trav.values[:, 0].tolist(), trav.values[:, -1].tolist()
        labels = [f"{t}  [{a:.2g}, {z:.2g}]" for t, a, z in zip(labels, lo, hi, strict=True)]
    return labels


def samples_figure(samples: Samples, ncol: int | None = None, scale: int | None = None) -> np.ndarray:
    """The samples in rows of ``ncol`` (default about square), titled with their source."""
    n = len(samples.images)
    ncol = ncol or max(1, int(np.ceil(np.sqrt(n))))
    title = [f"{n} samples decoded from codes drawn from", samples.source]
    return draw_grid(rows_of(samples.images, ncol), scale, title=title)


def interpolation_figure(interp: Interpolation, scale: int | None = None) -> np.ndarray:
    """One row per pair: the start image, the decoded path, the end image."""
    cells = torch.cat([interp.starts[:, None], interp.images, interp.ends[:, None]], 1)
    col_labels = ["input", *[f"{a:.2f}" for a in interp.alphas.tolist()], "input"]
    rows = [f"#{a} -> #{b}" for a, b in interp.pairs.tolist()]
    title = [f"{interp.method} interpolation between the codes of two images",
             "(first and last columns: the inputs; between: decoded path points)"]
    return draw_grid(cells, scale, title=title, row_labels=rows, col_labels=col_labels)


def save_gif(frames: list[np.ndarray], path: str | os.PathLike, duration_ms: int = 100) -> None:
    """Write (H, W, C) uint8 frames as a looping GIF, atomically. Every frame is kept (Pillow
    would merge identical neighbours; our frames differ in their step caption)."""
    from PIL import Image

    if not frames:
        raise UserError("no frames to write")
    if duration_ms < 10:
        raise UserError(f"GIF frame duration must be >= 10 ms, got {duration_ms}")
    images = [Image.fromarray(f[:, :, 0] if f.shape[2] == 1 else f) for f in frames]
    if images[0].mode == "RGB":
        images = [im.quantize(colors=256, method=Image.Quantize.MEDIANCUT) for im in images]
    with atomic_file(path) as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms,
                       loop=0, optimize=False, disposal=1)
