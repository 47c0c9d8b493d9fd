"""Procedural dSprites: grid enumeration, rendering semantics, determinism, errors."""

from __future__ import annotations

import math

import pytest
import torch

import autoenc.data.sprites as sprites
from autoenc.core.errors import UserError
from autoenc.data.source import SOURCES
from autoenc.data.sprites import (
    FACTOR_NAMES,
    FACTOR_SIZES,
    MIN_IMAGE_SIZE,
    SHAPE_NAMES,
    Sprites,
    factor_values,
    factors_to_index,
    index_to_factors,
    num_images,
    render,
)

SQUARE, ELLIPSE, HEART = range(3)
FULL = 737_280


def grid(*axes: list[int]) -> torch.Tensor:
    """(N, 5) factor indices: the cartesian product of the given per-factor index lists."""
    return torch.cartesian_prod(*[torch.tensor(a) for a in axes]).reshape(-1, 5)


def one(shape: int, scale: int, orientation: int, x: int, y: int, size: int = 64) -> torch.Tensor:
    """(S, S) bool mask of one sprite."""
    return render([[shape, scale, orientation, x, y]], size)[0, 0] > 0


def centroid(mask: torch.Tensor) -> tuple[float, float]:
    """(row, column) mean of the on pixels, in pixel indices."""
    rows, cols = mask.nonzero(as_tuple=True)
    return rows.double().mean().item(), cols.double().mean().item()


# ------------------------------------------------------------------------- the factor grid
def test_registry_finds_sprites():
    assert SOURCES.get("sprites") is Sprites


def test_factor_grid_constants():
    assert FACTOR_NAMES == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert FACTOR_SIZES == (3, 6, 40, 32, 32)
    assert SHAPE_NAMES == ("square", "ellipse", "heart")
    values = factor_values()
    assert [len(values[n]) for n in FACTOR_NAMES] == list(FACTOR_SIZES)
    assert values["scale"].tolist() == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    # dSprites' own values: linspace(0, 2 pi, 40), both ends included (0 and 39 the same angle)
    assert values["orientation"][0] == 0 and values["orientation"][-1] == pytest.approx(2 * math.pi)
    assert values["orientation"][1] == pytest.approx(2 * math.pi / 39)
    assert values["pos_x"][0] == 0 and values["pos_x"][-1] == 1
    assert num_images() == FULL == math.prod(FACTOR_SIZES)


def test_index_to_factors_known_answers():
    f = index_to_factors([0, 1, 32, 1024, 40 * 1024, FULL - 1])
    assert f.dtype == torch.int64 and f.shape == (6, 5)
    assert f.tolist() == [
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],  # pos_y is fastest
        [0, 0, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 0, 0],
        [2, 5, 39, 31, 31],  # shape is slowest
    ]


def test_index_factor_round_trip_full_grid():
    index = torch.randint(0, FULL, (5000,), generator=torch.Generator().manual_seed(0))
    factors = index_to_factors(index)
    assert torch.equal(factors_to_index(factors), index)
    assert torch.equal(index_to_factors(factors_to_index(factors)), factors)


def test_index_factor_round_trip_with_subsets():
    subsets = {"shape": [2, 0], "scale": [1, 4, 5], "orientation": [0, 7, 39], "pos_y": [3, 30]}
    n = num_images(subsets)
    assert n == 2 * 3 * 3 * 32 * 2
    factors = index_to_factors(torch.arange(n), subsets)
    # row-major over the sorted subsets, each combination exactly once
    assert torch.equal(factors, grid([0, 2], [1, 4, 5], [0, 7, 39], list(range(32)), [3, 30]))
    assert len(torch.unique(factors, dim=0)) == n
    assert torch.equal(factors_to_index(factors, subsets), torch.arange(n))
    shuffled = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    assert torch.equal(factors_to_index(factors[shuffled], subsets), shuffled)


def test_index_and_factor_bounds_errors():
    with pytest.raises(UserError, match=r"index 737280 is out of range 0\.\.737279"):
        index_to_factors([0, FULL])
    with pytest.raises(UserError, match=r"index -1 is out of range"):
        index_to_factors([-1])
    with pytest.raises(UserError, match=r"index 12 is out of range 0\.\.11"):
        index_to_factors([12], {"shape": [1], "scale": [0, 1], "orientation": [5], "pos_x": [0, 1, 2], "pos_y": [9, 8]})
    with pytest.raises(UserError, match=r"'orientation' index 40 is out of range 0\.\.39"):
        factors_to_index([[0, 0, 40, 0, 0]])
    with pytest.raises(UserError, match=r"'scale' index 3 is not in the subset \[0, 5\]"):
        factors_to_index([[0, 3, 0, 0, 0]], {"scale": [0, 5]})
    with pytest.raises(UserError, match=r"shape \(N, 5\)"):
        factors_to_index([[0, 0, 0, 0]])
    with pytest.raises(UserError, match="must be integers"):
        index_to_factors(torch.tensor([0.5]))
    with pytest.raises(UserError, match=r"unknown sprites factor 'colour'.*shape, scale"):
        num_images({"colour": [0]})


# ------------------------------------------------------------------------------ the source
def test_load_counts_targets_and_order():
    source = Sprites(scales=[5, 0], orientations=[0, 3, 7], pos_x=[0, 10, 31], pos_y=[0, 15, 31])
    data = source.load(32, None)
    n = 3 * 2 * 3 * 3 * 3
    assert len(source) == n and data.images.shape == (n, 1, 32, 32)
    assert data.images.dtype == torch.uint8
    assert set(data.images.unique().tolist()) == {0, 255}
    assert source.estimated_bytes(32, None) == data.images.nbytes
    assert data.target_names == list(FACTOR_NAMES)
    assert data.targets.dtype == torch.float32 and data.targets.shape == (n, 5)
    factors = index_to_factors(torch.arange(n), source.subsets())
    values = factor_values()
    expected = torch.stack([values[k][factors[:, i]] for i, k in enumerate(FACTOR_NAMES)], 1)
    assert torch.equal(data.targets, expected.float())
    assert data.targets[0].tolist() == [0.0, 0.5, 0.0, 0.0, 0.0]
    assert data.targets[-1].tolist() == pytest.approx([2.0, 1.0, 7 * 2 * math.pi / 39, 1.0, 1.0])
    # every combination once, and here every image differs (orientations < the square's 90 deg)
    assert len(torch.unique(data.targets, dim=0)) == n
    assert len(torch.unique(data.images.flatten(1), dim=0)) == n
    # load and render draw the same pixels
    assert torch.equal(data.images, render(factors, 32))


def test_default_size_channels_and_exact_bytes():
    source = Sprites(shapes=[2], scales=[3], orientations=[1, 2], pos_x=[4], pos_y=[5, 6])
    grey = source.load(None, None)
    assert grey.images.shape == (4, 1, 64, 64)
    rgb = source.load(None, 3)
    assert rgb.images.shape == (4, 3, 64, 64)
    assert torch.equal(rgb.images, grey.images.expand(-1, 3, -1, -1))
    assert source.estimated_bytes(None, 3) == rgb.images.nbytes == 4 * 3 * 64 * 64
    assert Sprites().estimated_bytes(None, None) == FULL * 64 * 64
    assert Sprites().estimated_bytes(32, 3) == FULL * 3 * 32 * 32
    assert source.output_shape(48, 1) == (1, 48, 48)


def test_render_is_deterministic():
    factors = index_to_factors(torch.randint(0, FULL, (400,), generator=torch.Generator().manual_seed(2)))
    for size in (32, 48, 64):
        first, second = render(factors, size), render(factors, size)
        assert torch.equal(first, second)
    # a sprite does not depend on the other sprites drawn with it
    assert torch.equal(render(factors[7:8], 64), render(factors, 64)[7:8])


@pytest.mark.parametrize("size", [MIN_IMAGE_SIZE, 64])
def test_every_mask_drawn_inside_the_frame_and_distinct(size):
    """All (shape, scale, orientation) at both sub-pixel offsets of 32 px (positions 0, 1)
    and at the extreme positions (0, 31): non-empty, no border pixel, shapes and neighbouring
    scales distinct."""
    for xs in ([0, 1], [0, 31]):
        images = render(grid([0, 1, 2], range(6), range(40), xs, xs), size)[:, 0] > 0
        assert images.flatten(1).any(1).all()
        border = images[:, 0].any(1) | images[:, -1].any(1) | images[:, :, 0].any(1) | images[:, :, -1].any(1)
        assert not border.any()
        masks = images.view(3, 6, 40, 4, -1)
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert not (masks[a] == masks[b]).all(-1).any(), (SHAPE_NAMES[a], SHAPE_NAMES[b])
        assert not (masks[:, 1:] == masks[:, :-1]).all(-1).any()


def test_positions_are_translations_with_known_centres():
    # at 64 px a position step is one pixel and the centre of position k is pixel 16 + k
    for x, y in ((0, 0), (31, 0), (5, 20), (31, 31)):
        row, col = centroid(one(SQUARE, 3, 0, x, y))
        assert (row, col) == (16 + y, 16 + x)
    base = one(HEART, 5, 13, 0, 0)
    moved = one(HEART, 5, 13, 9, 4)
    assert torch.equal(moved, base.roll((4, 9), dims=(0, 1)))


@pytest.mark.parametrize("shape", [SQUARE, ELLIPSE, HEART])
def test_centroid_moves_with_position(shape):
    rows_x = [centroid(one(shape, 2, 11, x, 16, 32)) for x in range(0, 32, 3)]
    cols = [c for _, c in rows_x]
    assert all(b > a for a, b in zip(cols, cols[1:], strict=False))  # pos_x: to the right
    assert max(r for r, _ in rows_x) - min(r for r, _ in rows_x) < 0.6
    rows = [centroid(one(shape, 2, 11, 16, y, 32))[0] for y in range(0, 32, 3)]
    assert all(b > a for a, b in zip(rows, rows[1:], strict=False))  # pos_y: downwards


@pytest.mark.parametrize("shape", [SQUARE, ELLIPSE, HEART])
def test_area_grows_with_scale(shape):
    areas = [int(one(shape, s, 6, 16, 16).sum()) for s in range(6)]
    assert all(b > a for a, b in zip(areas, areas[1:], strict=False))
    # area goes with scale^2: scale 1 has about 4 times the pixels of scale 0.5
    assert 3.5 < areas[-1] / areas[0] < 4.5


def test_square_at_orientation_zero_is_axis_aligned():
    for scale in range(6):
        mask = one(SQUARE, scale, 0, 12, 20)
        rows, cols = mask.nonzero(as_tuple=True)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert int(mask.sum()) == int(box)  # fills its bounding box
        assert rows.max() - rows.min() == cols.max() - cols.min()
    turned = one(SQUARE, 5, 5, 12, 20)  # 45 degrees: a diamond fills half its box
    rows, cols = turned.nonzero(as_tuple=True)
    box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert 0.45 < int(turned.sum()) / int(box) < 0.6


def test_ellipse_orientation():
    flat = one(ELLIPSE, 5, 0, 16, 16)
    rows, cols = flat.nonzero(as_tuple=True)
    assert cols.max() - cols.min() > 1.8 * (rows.max() - rows.min())
    upright = one(ELLIPSE, 5, 10, 16, 16)  # 92.3 degrees
    rows, cols = upright.nonzero(as_tuple=True)
    assert rows.max() - rows.min() > 1.8 * (cols.max() - cols.min())


def test_heart_looks_like_a_heart():
    heart = one(HEART, 5, 0, 16, 16)  # centred on pixel (32, 32)
    assert torch.equal(heart[:, 1:], heart[:, 1:].flip(1))  # mirror symmetric about column 32
    widths = heart.sum(1)
    rows = widths.nonzero().flatten()
    top, bottom = int(rows.min()), int(rows.max())
    assert widths[bottom] <= 3 and widths[top + 4] > 12  # pointed bottom, wide lobes on top
    col = heart[:, 32]  # the middle column: position 16 is centred on pixel 32
    cleft = int(col.nonzero().min())
    assert cleft >= top + 2  # a notch between the two lobes
    lobes = int(heart.sum()) / (heart.any(1).sum() * heart.any(0).sum())
    assert 0.55 < lobes < 0.8  # not a box, not a diamond


def test_orientation_turns_counter_clockwise():
    # crops centred on the sprite's centre pixel (32, 32), so rot90 turns about it
    heart = one(HEART, 5, 0, 16, 16)[1:, 1:]
    quarter = one(HEART, 5, 10, 16, 16)[1:, 1:]  # 10 * 360 / 39 = 92.3 degrees (dSprites' grid)
    ccw = torch.rot90(heart, 1, dims=(0, 1))  # rot90 with dims (0, 1) turns counter-clockwise
    cw = torch.rot90(heart, -1, dims=(0, 1))

    def iou(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a & b).sum()) / float((a | b).sum())

    assert iou(quarter, ccw) > 0.93  # 2.3 degrees past the quarter turn
    assert iou(quarter, cw) < 0.8


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scales": [0, 6]}, r"scales .*'scale', 0\.\.5\): index 6 is out of range 0\.\.5"),
        ({"shapes": [3]}, r"shapes .*'shape'.*index 3 is out of range 0\.\.2"),
        ({"orientations": [-1]}, r"orientations .*index -1 is out of range 0\.\.39"),
        ({"pos_x": [32]}, r"pos_x .*index 32 is out of range 0\.\.31"),
        ({"pos_y": [1, 1]}, r"pos_y .*index 1 is given twice"),
        ({"pos_y": []}, r"pos_y .*must be a non-empty list of indices \(null for all 32\), got \[\]"),
        ({"scales": [0.5]}, r"scales .*0\.5 is not an integer index"),
        ({"shapes": "heart"}, r"shapes .*must be a list of integers"),
    ],
)
def test_bad_subsets_are_refused_at_construction(kwargs, message):
    with pytest.raises(UserError, match=message):
        Sprites(**kwargs)


def test_subsets_are_stored_sorted():
    assert Sprites(shapes=[2, 0]).subsets()["shape"] == [0, 2]


@pytest.mark.parametrize("size", [16, MIN_IMAGE_SIZE - 1, 0])
def test_too_small_image_size_is_refused(size):
    source = Sprites(shapes=[0], scales=[0], orientations=[0], pos_x=[0], pos_y=[0])
    with pytest.raises(UserError, match=rf"image_size must be an integer >= {MIN_IMAGE_SIZE}.*got {size}"):
        source.load(size, None)
    with pytest.raises(UserError, match=rf">= {MIN_IMAGE_SIZE}"):
        source.estimated_bytes(size, None)
    with pytest.raises(UserError, match=rf">= {MIN_IMAGE_SIZE}"):
        render([[0, 0, 0, 0, 0]], size)


def test_bad_channels_are_refused():
    with pytest.raises(UserError, match="channels must be one of 1, 3"):
        Sprites(shapes=[0]).load(32, 2)


def test_module_exports():
    assert set(sprites.__all__) >= {"FACTOR_NAMES", "FACTOR_SIZES", "factor_values", "index_to_factors", "factors_to_index", "render"}


def test_last_orientation_is_the_first_angle_as_in_dsprites():
    """dSprites' orientations are linspace(0, 2 pi, 40): index 39 is 2 pi, the same image as 0."""
    first = grid([0, 1, 2], range(6), [0], [0, 13, 31], [0, 20])
    last = first.clone()
    last[:, 2] = 39
    for size in (32, 64):
        assert torch.equal(render(first, size), render(last, size))
