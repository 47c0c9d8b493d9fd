"""Procedural dSprites: binary images of one shape with known generative factors.

The factor grid follows dSprites (Matthey et al. 2017, https://github.com/deepmind/dsprites-dataset):

========== ===== ==========================================================
factor     size  values
========== ===== ==========================================================
shape      3     0 square, 1 ellipse, 2 heart
scale      6     linspace(0.5, 1, 6)
orientation 40   linspace(0, 2 pi, 40) (radians, counter-clockwise on screen)
pos_x      32    linspace(0, 1, 32), left to right
pos_y      32    linspace(0, 1, 32), top to bottom (image rows grow downwards)
========== ===== ==========================================================

737,280 images of 64 x 64 pixels, 0 or 255. The values are dSprites' own (its
``latents_possible_values``): orientation is ``linspace(0, 2 pi, 40)`` with BOTH ends included,
so orientation 39 (2 pi) is the same angle as orientation 0 and draws the same image
(dsprites-dataset issue 7); neighbouring orientations are 2 pi / 39 apart (9.23 degrees). Like
dSprites, the square has a 4-fold and the ellipse a 2-fold rotational symmetry, so further
orientations of them give the same or nearly the same image. How many of the images are
distinct at each size is counted by ``scripts/count_sprites.py`` and stated in
docs/disentanglement.md.

Geometry, in *frame units* (the image is 64 x 64 frame units at every resolution): a shape is
centred (its centroid) at ``16.5 + 31 * pos`` on each axis, so neighbouring positions are
one frame unit apart, and its farthest point from the centre is ``14 * scale``; every shape
therefore stays at least 2.5 frame units away from the frame edge. A pixel is on when its
centre lies inside the shape. At 64 x 64 one frame unit is one pixel, so each image is an
integer translation of one of the 720 (shape, scale, orientation) masks: the renderer draws
those masks once and pastes them at every position (sub-pixel positions at other sizes get
their own masks, one set per distinct fractional offset).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from autoenc.core.constraints import Constraint, InstanceOf, Interval, ListOf, Null, check_param
from autoenc.core.errors import UserError
from autoenc.data.source import ImageArrays, ImageSource, check_channels, register_source

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "SHAPE_NAMES",
    "NATIVE_IMAGE_SIZE",
    "MIN_IMAGE_SIZE",
    "Sprites",
    "SpritesGroundTruth",
    "factor_values",
    "index_to_factors",
    "factors_to_index",
    "num_images",
    "render",
]

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
NATIVE_IMAGE_SIZE = 64

# Smallest image side served. From 32 up (checked exhaustively at 32, 48 and 64 by
# tests/data/test_sprites.py and scripts) every image is non-empty and touches no border
# pixel, the three shapes give three different images at every (scale, orientation,
# position), and so do neighbouring scales. Measured below 32: neighbouring scales give the
# same image for 1-2% of masks at 26-31, and squares, ellipses and hearts merge at 25 and
# below (e.g. 4% of (scale, orientation, position) at 16), so those sizes are refused.
MIN_IMAGE_SIZE = 32

_FRAME = 64.0  # frame units across the image
_CENTRE_LO = 16.5  # centre (frame units) at position 0; position 1 is at 16.5 + 31 = 47.5
_RADIUS = 14.0  # farthest point of a scale-1 shape from its centre (frame units)
_ELLIPSE_MINOR = 0.5  # minor / major semi-axis

Subsets = Mapping[str, Sequence[int] | None]


# ---------------------------------------------------------------------------- factor grid
def factor_values() -> dict[str, torch.Tensor]:
    """The value of every grid point of each factor, keyed by :data:`FACTOR_NAMES`.

    Returns:
        name -> (FACTOR_SIZES[i],) float64: shape 0., 1., 2.; scale linspace(0.5, 1, 6);
        orientation linspace(0, 2 pi, 40) in radians, as dSprites (both ends included, so
        the first and last are the same angle); pos_x, pos_y
        linspace(0, 1, 32) (fractions of the range of centres).
    """
    return {
        "shape": torch.arange(3, dtype=torch.float64),
        "scale": torch.linspace(0.5, 1.0, 6, dtype=torch.float64),
        "orientation": torch.linspace(0.0, 2 * math.pi, 40, dtype=torch.float64),
        "pos_x": torch.linspace(0.0, 1.0, 32, dtype=torch.float64),
        "pos_y": torch.linspace(0.0, 1.0, 32, dtype=torch.float64),
    }


#: What each factor subset argument of :class:`Sprites` accepts; :func:`_check_subset` then
#: checks the indices' range and duplicates.
SUBSET: list[Constraint] = [InstanceOf((list, tuple, np.ndarray, torch.Tensor), "a list of integers"), Null()]


def _check_subset(factor: str, values: Sequence[int] | None, argument: str) -> list[int] | None:
    """``values`` as a sorted list of grid indices of ``factor``; None stays None (all)."""
    if values is None:
        return None
    size = FACTOR_SIZES[FACTOR_NAMES.index(factor)]
    where = f"sprites {argument} (indices into the {size} values of factor {factor!r}, 0..{size - 1})"
    check_param(where, SUBSET, values)
    items = values.tolist() if isinstance(values, np.ndarray | torch.Tensor) else list(values)
    check_param(where, [ListOf(InstanceOf(object, "indices"), non_empty=True, note=f"null for all {size}")], items)
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise UserError(f"{where}: {v!r} is not an integer index")
        if not 0 <= v < size:
            raise UserError(f"{where}: index {v} is out of range 0..{size - 1}")
    if len(set(items)) != len(items):
        twice = sorted({int(v) for v in items if items.count(v) > 1})
        raise UserError(f"{where}: index {twice[0]} is given twice; list each index once")
    return sorted(int(v) for v in items)


def _subset_tensors(subsets: Subsets | None) -> list[torch.Tensor]:
    """One sorted int64 tensor of grid indices per factor (all indices where not given)."""
    subsets = dict(subsets or {})
    unknown = sorted(set(subsets) - set(FACTOR_NAMES))
    if unknown:
        raise UserError(f"unknown sprites factor {unknown[0]!r} in subsets; factors: {', '.join(FACTOR_NAMES)}")
    out = []
    for name, size in zip(FACTOR_NAMES, FACTOR_SIZES, strict=True):
        chosen = _check_subset(name, subsets.get(name), f"subset {name!r}")
        out.append(torch.arange(size) if chosen is None else torch.tensor(chosen, dtype=torch.int64))
    return out


def num_images(subsets: Subsets | None = None) -> int:
    """Number of images in the grid restricted to ``subsets`` (737,280 for the full grid)."""
    return math.prod(len(s) for s in _subset_tensors(subsets))


def _as_int64(values: torch.Tensor | np.ndarray | Sequence, what: str) -> torch.Tensor:
    tensor = torch.as_tensor(values)
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex or tensor.dtype == torch.bool:
        raise UserError(f"{what} must be integers, got dtype {tensor.dtype}")
    return tensor.to(torch.int64)


def index_to_factors(
    index: torch.Tensor | np.ndarray | Sequence[int], subsets: Subsets | None = None
) -> torch.Tensor:
    """Grid indices of the factors of the images at positions ``index`` of the enumeration.

    Args:
        index: (N,) integers in [0, num_images(subsets)): positions in the row-major order
            over the factor grid restricted to ``subsets`` (shape slowest, pos_y fastest).
        subsets: factor name -> list of grid indices to keep (None or missing: all).

    Returns:
        (N, 5) int64 indices into the FULL grid of each factor, columns in FACTOR_NAMES order.

    Raises:
        UserError: an index out of range, or a bad subset.
    """
    grids = _subset_tensors(subsets)
    sizes = [len(g) for g in grids]
    total = math.prod(sizes)
    index = _as_int64(index, "sprites image index").reshape(-1)
    if len(index) and (int(index.min()) < 0 or int(index.max()) >= total):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise UserError(f"sprites image index {bad} is out of range 0..{total - 1}")
    if not len(index):
        return torch.zeros(0, 5, dtype=torch.int64)
    # row-major over the subsets: the last factor (pos_y) varies fastest
    return torch.stack([grid[k] for grid, k in zip(grids, torch.unravel_index(index, sizes), strict=True)], dim=1)


def factors_to_index(
    factor_indices: torch.Tensor | np.ndarray | Sequence[Sequence[int]],
    subsets: Subsets | None = None,
) -> torch.Tensor:
    """Positions in the enumeration of the images with the given factors (inverse of
    :func:`index_to_factors`).

    Args:
        factor_indices: (N, 5) integer indices into the full grid of each factor
            (FACTOR_NAMES order); each is one of the factor's subset.
        subsets: as in :func:`index_to_factors`.

    Returns:
        (N,) int64 positions in [0, num_images(subsets)).

    Raises:
        UserError: wrong shape, an index outside the grid or outside the subset.
    """
    factors = _check_factor_indices(factor_indices)
    grids = _subset_tensors(subsets)
    index = torch.zeros(len(factors), dtype=torch.int64)
    for col, (name, grid, size) in enumerate(zip(FACTOR_NAMES, grids, FACTOR_SIZES, strict=True)):
        position = torch.full((size,), -1, dtype=torch.int64)
        position[grid] = torch.arange(len(grid))
        found = position[factors[:, col]]
        if bool((found < 0).any()):
            bad = int(factors[:, col][found < 0][0])
            raise UserError(f"sprites factor {name!r} index {bad} is not in the subset {grid.tolist()}")
        index = index * len(grid) + found  # row-major: pos_y varies fastest
    return index


def _check_factor_indices(factor_indices: torch.Tensor | np.ndarray | Sequence) -> torch.Tensor:
    """(N, 5) int64 factor indices, each within its factor's grid."""
    factors = _as_int64(factor_indices, "sprites factor indices")
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise UserError(
            f"sprites factor indices must have shape (N, 5) ({', '.join(FACTOR_NAMES)}), "
            f"got {tuple(factors.shape)}"
        )
    for col, (name, size) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES, strict=True)):
        column = factors[:, col]
        if len(column) and (int(column.min()) < 0 or int(column.max()) >= size):
            bad = int(column.min()) if int(column.min()) < 0 else int(column.max())
            raise UserError(f"sprites factor {name!r} index {bad} is out of range 0..{size - 1}")
    return factors


# ------------------------------------------------------------------------------- shapes
# Each shape is a strict inside test (a pixel centre exactly on the outline is off, so an
# axis-aligned ellipse has no one-pixel spikes at its tips) on canonical coordinates (x right, y up) in which the shape's
# centroid is the origin and its farthest point is at distance 1.


def _square(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    half = 1 / math.sqrt(2)
    return (x.abs() < half) & (y.abs() < half)


def _ellipse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * x + (y / _ELLIPSE_MINOR) ** 2 < 1


def _heart_geometry() -> tuple[float, float]:
    """Side ``a`` and centroid height ``c`` of the heart drawn as a diamond (a square of side
    ``a`` turned 45 degrees) plus two discs of diameter ``a`` on its upper edges."""
    # Centroid above the diamond's centre: the two outer half-discs (area pi a^2 / 8 each)
    # sit at a/(2 sqrt 2) + (4 r / 3 pi) / sqrt 2 with r = a / 2; the union has area
    # a^2 (1 + pi / 4).
    half_disc_y = 1 / (2 * math.sqrt(2)) + 2 / (3 * math.pi * math.sqrt(2))
    c1 = (math.pi / 4) * half_disc_y / (1 + math.pi / 4)
    tip = 1 / math.sqrt(2) + c1
    lobe = math.hypot(1 / (2 * math.sqrt(2)), 1 / (2 * math.sqrt(2)) - c1) + 0.5
    a = 1 / max(tip, lobe)
    return a, c1 * a


_HEART_SIDE, _HEART_CENTROID = _heart_geometry()


def _heart(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    a = _HEART_SIDE
    y = y + _HEART_CENTROID  # back to the diamond's centre
    diamond = x.abs() + y.abs() < a / math.sqrt(2)
    lobe_x, lobe_y, r2 = a / (2 * math.sqrt(2)), a / (2 * math.sqrt(2)), (a / 2) ** 2
    lobes = ((x.abs() - lobe_x) ** 2 + (y - lobe_y) ** 2) < r2
    return diamond | lobes


_SHAPES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "square": _square,
    "ellipse": _ellipse,
    "heart": _heart,
}
SHAPE_NAMES: tuple[str, ...] = tuple(_SHAPES)  # shape value i is SHAPE_NAMES[i]


# ------------------------------------------------------------------------------ renderer
@dataclass(frozen=True)
class _Layout:
    """Where the 32 positions of an axis fall on a ``size``-pixel grid.

    A patch of ``patch = 2 * reach + 1`` pixels, starting at pixel ``start[k]``, holds the
    shape at position k; ``phase[k]`` in [0, 1) is the shape centre's offset from the
    centre of pixel ``start[k] + reach``, in pixels (exact: a multiple of 1/128).
    """

    size: int
    reach: int
    start: torch.Tensor  # (32,) int64
    phase: torch.Tensor  # (32,) float64

    @property
    def patch(self) -> int:
        return 2 * self.reach + 1

    @staticmethod
    def of(size: int) -> _Layout:
        # centre in pixels = (16.5 + k) * size / 64 = (33 + 2k) * size / 128, kept exact.
        numerator = (33 + 2 * torch.arange(32, dtype=torch.int64)) * size
        whole, frac = numerator // 128, (numerator % 128).double() / 128
        reach = math.ceil(_RADIUS * size / _FRAME + 0.5)
        # phase measured from the pixel centre at whole - 0.5 + 1 = whole + 0.5: offsets of the
        # patch pixels from the shape centre are (j - reach + 0.5 - frac), j = 0..patch-1.
        return _Layout(size=size, reach=reach, start=whole - reach, phase=frac)


def _render_masks(
    mask_ids: torch.Tensor, phase_x: float, phase_y: float, layout: _Layout
) -> torch.Tensor:
    """Patches of the (shape, scale, orientation) masks ``mask_ids`` at one sub-pixel offset.

    Args:
        mask_ids: (M,) int64, ``(shape * 6 + scale) * 40 + orientation``.
        phase_x, phase_y: the centre's sub-pixel offset (see :class:`_Layout`), in pixels.

    Returns:
        (M, P, P) bool, P = layout.patch.
    """
    values = factor_values()
    # cos/sin always come from the same 40-element tensor, so a mask is bit-identical
    # whichever batch it is drawn in.
    # The last orientation is 2 pi, the same angle as the first (dSprites' grid includes both
    # ends); reduced mod 2 pi it draws the bit-identical image, as in dSprites.
    angle = torch.remainder(values["orientation"], 2 * math.pi)
    cos_all, sin_all = angle.cos(), angle.sin()
    unit = _FRAME / layout.size  # frame units per pixel
    offsets = torch.arange(layout.patch, dtype=torch.float64) - layout.reach + 0.5
    dx = ((offsets - phase_x) * unit).view(1, 1, -1)  # right
    dy = (-(offsets - phase_y) * unit).view(1, -1, 1)  # up (rows grow downwards)
    out = torch.empty(len(mask_ids), layout.patch, layout.patch, dtype=torch.bool)
    chunk = max(1, (1 << 21) // layout.patch**2)  # bounds the float64 temporaries (~16 MB)
    for lo in range(0, len(mask_ids), chunk):
        ids = mask_ids[lo : lo + chunk]
        shape, scale, orient = ids // 240, (ids // 40) % 6, ids % 40
        cos, sin = cos_all[orient].view(-1, 1, 1), sin_all[orient].view(-1, 1, 1)
        radius = (values["scale"][scale] * _RADIUS).view(-1, 1, 1)
        # rotate the pixel offsets by -orientation into the shape's own frame
        x = (cos * dx + sin * dy) / radius
        y = (cos * dy - sin * dx) / radius
        block = out[lo : lo + chunk]
        for index, inside in enumerate(_SHAPES.values()):
            rows = (shape == index).nonzero().flatten()
            if len(rows):
                block[rows] = inside(x[rows], y[rows])
    return out


def _clip(start: int, length: int, size: int) -> tuple[slice, slice]:
    """(destination slice in the image, source slice in the patch) of a patch at ``start``."""
    lo, hi = max(start, 0), min(start + length, size)
    return slice(lo, hi), slice(lo - start, hi - start)


def _as_slice(index: torch.Tensor) -> slice | None:
    """``index`` (n,) int64 as an equivalent slice when it is an increasing arithmetic
    progression (always so for :meth:`Sprites.load`'s grid order), else None."""
    if len(index) == 1:
        return slice(int(index[0]), int(index[0]) + 1)
    step = index[1] - index[0]
    if int(step) < 1 or not bool((index.diff() == step).all()):
        return None
    return slice(int(index[0]), int(index[-1]) + 1, int(step))


def _render_into(out: torch.Tensor, factors: torch.Tensor, image_size: int) -> None:
    """Draw the sprites with ``factors`` (N, 5) grid indices into zeroed ``out`` (N, S, S)
    uint8 (any strides): 255 inside the shape. One mask per (shape, scale, orientation,
    sub-pixel offset) is drawn, then pasted for all images at each position pair at once."""
    layout = _Layout.of(image_size)
    mask_id = (factors[:, 0] * 6 + factors[:, 1]) * 40 + factors[:, 2]
    pos_key = factors[:, 3] * 32 + factors[:, 4]
    order = torch.argsort(pos_key, stable=True)
    keys, counts = torch.unique_consecutive(pos_key[order], return_counts=True)
    ends = counts.cumsum(0).tolist()
    groups = list(zip(keys.tolist(), [e - c for e, c in zip(ends, counts.tolist(), strict=True)], ends, strict=True))
    # positions whose sub-pixel offsets coincide share one set of masks
    by_phase: dict[tuple[float, float], list[tuple[int, int, int]]] = {}
    for key, lo, hi in groups:
        kx, ky = divmod(key, 32)
        phases = (float(layout.phase[kx]), float(layout.phase[ky]))
        by_phase.setdefault(phases, []).append((key, lo, hi))
    for (phase_x, phase_y), members in by_phase.items():
        needed = torch.unique(torch.cat([mask_id[order[lo:hi]] for _, lo, hi in members]))
        patches = _render_masks(needed, phase_x, phase_y, layout).to(torch.uint8).mul_(255)
        row_of = torch.full((720,), -1, dtype=torch.int64)
        row_of[needed] = torch.arange(len(needed))
        for key, lo, hi in members:
            kx, ky = divmod(key, 32)
            images = order[lo:hi]
            cols, src_cols = _clip(int(layout.start[kx]), layout.patch, image_size)
            rows, src_rows = _clip(int(layout.start[ky]), layout.patch, image_size)
            target = _as_slice(images)  # a plain strided view is much faster than index_put
            out[target if target is not None else images, rows, cols] = patches[
                row_of[mask_id[images]]
            ][:, src_rows, src_cols]


def _check_render_size(image_size: int) -> int:
    note = f"64 is native; below {MIN_IMAGE_SIZE} small sprites of different scales or shapes render identically"
    return check_param("sprites image_size", [Interval(int, MIN_IMAGE_SIZE, None, closed="left", note=note)],
                       image_size)


def render(
    factor_indices: torch.Tensor | np.ndarray | Sequence[Sequence[int]],
    image_size: int = NATIVE_IMAGE_SIZE,
) -> torch.Tensor:
    """Draw sprites for arbitrary factor combinations.

    Args:
        factor_indices: (N, 5) integer grid indices (FACTOR_NAMES order), e.g. from
            :func:`index_to_factors`.
        image_size: side S in pixels, >= MIN_IMAGE_SIZE.

    Returns:
        (N, 1, S, S) uint8, 255 inside the shape and 0 outside; bit-identical across calls
        and to the same images from :meth:`Sprites.load`.
    """
    factors = _check_factor_indices(factor_indices)
    size = _check_render_size(image_size)
    out = torch.zeros(len(factors), 1, size, size, dtype=torch.uint8)
    if len(factors):
        _render_into(out[:, 0], factors, size)
    return out


# ---------------------------------------------------------------------------- the source
@register_source
class Sprites(ImageSource):
    """Procedural dSprites (see the module docstring for the factor grid and geometry).

    Targets are the factor VALUES, float32 (N, 5) in FACTOR_NAMES order (shape as 0, 1, 2).
    Images come in row-major order over the chosen grid (shape slowest, pos_y fastest).

    Args:
        shapes: indices into (square, ellipse, heart) to keep; None keeps all.
        scales: indices 0..5 into linspace(0.5, 1, 6); None keeps all.
        orientations: indices 0..39 into linspace(0, 2 pi, 40) (0 and 39 are the same angle,
            as in dSprites); None keeps all.
        pos_x: indices 0..31 into linspace(0, 1, 32); None keeps all.
        pos_y: indices 0..31 into linspace(0, 1, 32); None keeps all.
    """

    name = "sprites"
    native_shape = (1, NATIVE_IMAGE_SIZE, NATIVE_IMAGE_SIZE)
    parameter_constraints: ClassVar[dict[str, list[Constraint]]] = dict.fromkeys(
        ("shapes", "scales", "orientations", "pos_x", "pos_y"), SUBSET)

    def __init__(
        self,
        *,
        shapes: list[int] | None = None,
        scales: list[int] | None = None,
        orientations: list[int] | None = None,
        pos_x: list[int] | None = None,
        pos_y: list[int] | None = None,
    ) -> None:
        self.shapes = _check_subset("shape", shapes, "shapes")
        self.scales = _check_subset("scale", scales, "scales")
        self.orientations = _check_subset("orientation", orientations, "orientations")
        self.pos_x = _check_subset("pos_x", pos_x, "pos_x")
        self.pos_y = _check_subset("pos_y", pos_y, "pos_y")

    def subsets(self) -> dict[str, list[int] | None]:
        """Factor name -> the chosen grid indices (None: all), for the module helpers."""
        chosen = (self.shapes, self.scales, self.orientations, self.pos_x, self.pos_y)
        return dict(zip(FACTOR_NAMES, chosen, strict=True))

    def __len__(self) -> int:
        return num_images(self.subsets())

    def ground_truth(self, image_size: int | None = None, channels: int | None = None) -> SpritesGroundTruth:
        """This grid as a ground truth (:mod:`autoenc.data.ground_truth`) rendered at
        ``image_size`` (default 64) with ``channels`` (default 1)."""
        c, size, _ = self.output_shape(image_size, channels)
        return SpritesGroundTruth(self.subsets(), size, c)

    def output_shape(self, image_size: int | None, channels: int | None) -> tuple[int, int, int]:
        size = _check_render_size(NATIVE_IMAGE_SIZE if image_size is None else image_size)
        check_channels(channels)
        return (channels or 1, size, size)

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        """Exact size in bytes of :meth:`load`'s images: N * C * S * S (uint8)."""
        return len(self) * math.prod(self.output_shape(image_size, channels))

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        """All chosen images in memory.

        Returns:
            images (N, C, S, S) uint8 in {0, 255} (S = image_size or 64; C = channels or 1,
            3 repeats the mask), targets (N, 5) float32 factor values.
        """
        c, size, _ = self.output_shape(image_size, channels)
        subsets = self.subsets()
        factors = index_to_factors(torch.arange(num_images(subsets)), subsets)
        images = torch.zeros(len(factors), c, size, size, dtype=torch.uint8)
        _render_into(images[:, 0], factors, size)
        for channel in range(1, c):
            images[:, channel] = images[:, 0]
        values = factor_values()
        targets = torch.stack(
            [values[name].float()[factors[:, i]] for i, name in enumerate(FACTOR_NAMES)], dim=1
        )
        return ImageArrays(
            images=images,
            targets=targets,
            target_names=list(FACTOR_NAMES),
            description={"source": self.name, "image_size": size, **self.options()},
        )


class SpritesGroundTruth:
    """The sprites grid restricted to ``subsets`` as a ground truth (the
    :class:`~autoenc.data.ground_truth.GroundTruth` protocol).

    Its factors are the sprites factors that vary in the subset (a factor fixed to one value
    is not one), each indexed 0..n-1 over the chosen values in increasing order.

    Args:
        subsets: factor name -> grid indices kept (None or missing: all).
        image_size: side of the rendered images, >= MIN_IMAGE_SIZE.
        channels: 1, or 3 (the mask repeated).
    """

    #: Largest grid (bytes of one-channel images) kept in memory after the first render.
    TABLE_BYTES = 64 * 2**20
    #: ``render`` draws nothing from its ``rng``: the metrics may encode each image once.
    deterministic_render = True

    def __init__(self, subsets: Subsets | None = None, image_size: int = NATIVE_IMAGE_SIZE, channels: int = 1) -> None:
        check_channels(channels)
        self.image_size = _check_render_size(image_size)
        self.channels = channels
        self._subsets = dict(subsets or {})
        self._grids = _subset_tensors(subsets)
        self._table: torch.Tensor | None = None  # every image of the grid, when small (see render)
        self._fixed = torch.stack([grid[0] for grid in self._grids])  # value of the fixed factors
        self._free = [k for k, grid in enumerate(self._grids) if len(grid) > 1]
        self.factor_names: tuple[str, ...] = tuple(FACTOR_NAMES[k] for k in self._free)
        self.factor_sizes: tuple[int, ...] = tuple(len(self._grids[k]) for k in self._free)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, K) int64 indices, each factor uniform over its values."""
        from autoenc.data.ground_truth import sample_uniform

        return sample_uniform(self.factor_sizes, n, rng)

    def full_factors(self, factors: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(n, K) ground-truth indices -> (n, 5) indices into the full sprites grid."""
        from autoenc.data.ground_truth import check_factor_indices

        local = torch.from_numpy(check_factor_indices(factors, self.factor_sizes, self.factor_names))
        full = self._fixed.repeat(len(local), 1)
        for column, k in enumerate(self._free):
            full[:, k] = self._grids[k][local[:, column]]
        return full

    def render(self, factors: np.ndarray | torch.Tensor, rng: np.random.Generator | None = None) -> torch.Tensor:
        """(n, K) indices -> (n, C, S, S) uint8 in {0, 255}; deterministic (``rng`` unused).

        A grid of at most ``TABLE_BYTES`` of images is drawn whole on the first call and then
        indexed (the metrics render hundreds of thousands of images); larger ones are drawn
        image by image."""
        full = self.full_factors(factors)
        if self._table is None and num_images(self._subsets) * self.image_size**2 <= self.TABLE_BYTES:
            self._table = render(index_to_factors(torch.arange(num_images(self._subsets)), self._subsets),
                                 self.image_size)
        if self._table is not None:
            images = self._table[factors_to_index(full, self._subsets)]
        else:
            images = render(full, self.image_size)
        return images.expand(-1, self.channels, -1, -1).contiguous() if self.channels > 1 else images
