"""Labelled image grids drawn with Pillow: exact pixel sizes, legible text, no matplotlib.

A grid is R rows x K columns of equally sized images, upscaled by an integer factor
(nearest neighbour, so 8 x 8 digits stay crisp), with optional title lines, column groups
(e.g. one group per base image) with a title each, column labels, row labels on the left
and a caption under each image. :class:`GridLayout` computes every size from those parts,
so the size of the picture follows from the grid alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from autoenc.core.png import to_uint8, upscale_for_viewing

FONT_SIZE = 13
SMALL_FONT_SIZE = 11
MARGIN = 6  # around text and the picture's edge
PAD = 2  # between images
GROUP_GAP = 10  # between column groups
TARGET_CELL = 64  # images are upscaled to about this many pixels high


@functools.lru_cache(maxsize=8)
def font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font at ``size`` pixels."""
    return ImageFont.load_default(size=size)


def text_width(text: str, size: int = FONT_SIZE) -> int:
    return int(np.ceil(font(size).getlength(text))) if text else 0


def line_height(size: int = FONT_SIZE) -> int:
    return size + 5


def default_scale(height: int) -> int:
    """Integer upscale that makes an image about :data:`TARGET_CELL` pixels high."""
    return upscale_for_viewing(height, TARGET_CELL)


@dataclass(frozen=True)
class GridLayout:
    """Pixel geometry of a labelled grid (all sizes in output pixels).

    Attributes:
        rows, cols: number of image rows and columns.
        cell_h, cell_w: size of one upscaled image.
        label_w: width of the row-label column (0 without labels).
        top: height above the first row (title lines, group titles, column labels).
        caption_h: height of the caption band under each row (0 for rows without captions).
        group_size: columns per group (a gap of GROUP_GAP between groups), or None.
        min_width: the title's width, so a long title is never cut.
    """

    rows: int
    cols: int
    cell_h: int
    cell_w: int
    label_w: int
    top: int
    caption_h: tuple[int, ...]
    group_size: int | None = None
    min_width: int = 0

    def x(self, col: int) -> int:
        """Left edge of column ``col``."""
        gaps = col // self.group_size if self.group_size else 0
        return self.label_w + PAD + col * (self.cell_w + PAD) + gaps * GROUP_GAP

    def y(self, row: int) -> int:
        """Top edge of row ``row``."""
        return self.top + PAD + row * (self.cell_h + PAD) + sum(self.caption_h[:row])

    @property
    def width(self) -> int:
        return max(self.x(self.cols - 1) + self.cell_w + PAD + MARGIN, self.min_width)

    @property
    def height(self) -> int:
        return self.y(self.rows - 1) + self.cell_h + self.caption_h[-1] + PAD + MARGIN


def grid_layout(rows: int, cols: int, image_hw: tuple[int, int], scale: int, *, title: Sequence[str] = (),
                row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
                group_titles: Sequence[str] | None = None, group_size: int | None = None,
                captions: Sequence[Sequence[str] | None] | None = None) -> GridLayout:
    """The :class:`GridLayout` of :func:`draw_grid` for the same arguments."""
    label_w = (max(text_width(t) for t in row_labels) + 2 * MARGIN) if row_labels else 0
    top = MARGIN + len(title) * line_height()
    top += line_height() if group_titles else 0
    top += line_height(SMALL_FONT_SIZE) if col_labels else 0
    caption_rows = list(captions) if captions is not None else [None] * rows
    caption_h = tuple(line_height(SMALL_FONT_SIZE) if c else 0 for c in caption_rows)
    min_width = max((text_width(t) for t in title), default=0) + 2 * MARGIN
    return GridLayout(rows, cols, image_hw[0] * scale, image_hw[1] * scale, label_w, top, caption_h,
                      group_size, min_width)


def draw_grid(cells: torch.Tensor, scale: int | None = None, *, title: Sequence[str] = (),
              row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
              group_titles: Sequence[str] | None = None, group_size: int | None = None,
              captions: Sequence[Sequence[str] | None] | None = None) -> np.ndarray:
    """Draw (R, K, C, H, W) images in [0, 1] as a labelled grid.

    Args:
        scale: integer upscale (default: to about 64 pixels high).
        title: lines of text above everything.
        row_labels: R labels left of the rows; col_labels: K labels above the columns.
        group_titles: one title per group of ``group_size`` columns.
        captions: per row, K captions under the images (or None for no caption band).

    Returns:
        (height, width, C) uint8 picture, C = 1 (grey images) or 3 (colour).
    """
    r, k, c, h, w = cells.shape
    scale = scale or default_scale(h)
    layout = grid_layout(r, k, (h, w), scale, title=title, row_labels=row_labels, col_labels=col_labels,
                         group_titles=group_titles, group_size=group_size, captions=captions)
    mode, ink, grey = ("L", 0, 110) if c == 1 else ("RGB", (0, 0, 0), (110, 110, 110))
    canvas = Image.new(mode, (layout.width, layout.height), 255 if c == 1 else (255, 255, 255))
    pixels = to_uint8(cells.reshape(r * k, c, h, w)).permute(0, 2, 3, 1).numpy()
    if scale > 1:
        pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    for i, tile in enumerate(pixels):
        row, col = divmod(i, k)
        canvas.paste(Image.fromarray(tile[:, :, 0] if c == 1 else tile), (layout.x(col), layout.y(row)))
    draw = ImageDraw.Draw(canvas)
    y = MARGIN
    for line in title:
        draw.text((MARGIN, y), line, font=font(), fill=ink)
        y += line_height()
    if group_titles:
        size = group_size or k
        for g, text in enumerate(group_titles):
            draw.text((layout.x(g * size), y), text, font=font(), fill=ink)
        y += line_height()
    if col_labels:
        for col, text in enumerate(col_labels):
            _centred(draw, text, layout.x(col), layout.cell_w, y, grey)
    for row in range(r):
        if row_labels:
            ty = layout.y(row) + (layout.cell_h - FONT_SIZE) // 2 - 2
            draw.text((MARGIN, ty), row_labels[row], font=font(), fill=ink)
        if captions is not None and captions[row]:
            cy = layout.y(row) + layout.cell_h + 1
            for col, text in enumerate(captions[row]):
                _centred(draw, text, layout.x(col), layout.cell_w, cy, grey)
    out = np.asarray(canvas)
    return out[:, :, None] if out.ndim == 2 else out


def _centred(draw: ImageDraw.ImageDraw, text: str, left: int, width: int, y: int, fill) -> None:
    tw = text_width(text, SMALL_FONT_SIZE)
    draw.text((left + (width - tw) // 2, y), text, font=font(SMALL_FONT_SIZE), fill=fill)


def rows_of(images: torch.Tensor, ncol: int) -> torch.Tensor:
    """(N, C, H, W) -> (ceil(N / ncol), ncol, C, H, W), the last row padded with white."""
    n = len(images)
    ncol = max(1, min(ncol, n))
    nrow = -(-n // ncol)
    padded = torch.ones((nrow * ncol, *images.shape[1:]), dtype=torch.float32)
    padded[:n] = images.float()
    return padded.reshape(nrow, ncol, *images.shape[1:])
