"""Pictures of the bottleneck: grid sizes follow from the layout, the GIF has the stated frames,
the same seed gives the same pixels, and the views write nothing on bad options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence
from test_look import digit_images, trained

from autoenc.core.errors import UserError
from autoenc.core.png import save_png
from autoenc.data.source import ImageArrays
from autoenc.measure.codes import latent_stats
from autoenc.measure.generate import sample
from autoenc.measure.traversal import traverse
from autoenc.render.canvas import MARGIN, PAD, draw_grid, grid_layout
from autoenc.render.look_figures import samples_figure, save_gif, traversal_figure, traversal_frames
from autoenc.render.pictures import check_out_dir, write_pictures
from autoenc.workflows.views import (
    interpolation_view,
    latent_map_view,
    reconstructions_view,
    samples_view,
    traversal_view,
)


@pytest.fixture(scope="module")
def vae():
    return trained("vae")


@pytest.fixture(scope="module")
def data():
    x = digit_images()[:300]
    return ImageArrays(x, torch.arange(300) % 10, [str(i) for i in range(10)], {"source": "digits", "split": "val"})


def test_grid_size_follows_from_the_grid(tmp_path):
    cells = torch.rand(3, 5, 1, 8, 8)
    picture = draw_grid(cells, 4, row_labels=["a", "b", "c"])
    layout = grid_layout(3, 5, (8, 8), 4, row_labels=["a", "b", "c"])
    assert picture.shape == (layout.height, layout.width, 1)
    assert layout.height == layout.top + 3 * (32 + PAD) + PAD + MARGIN
    wider = draw_grid(torch.rand(3, 6, 1, 8, 8), 4, row_labels=["a", "b", "c"])
    assert wider.shape[1] - picture.shape[1] == 32 + PAD  # one more column: one more cell
    taller = draw_grid(torch.rand(4, 5, 1, 8, 8), 4, row_labels=["a", "b", "c", "d"])
    assert taller.shape[0] - picture.shape[0] == 32 + PAD
    save_png(picture, tmp_path / "g.png")
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (layout.width, layout.height)
    # the images are pasted upscaled, pixel for pixel
    x0, y0 = layout.x(1), layout.y(2)
    tile = picture[y0 : y0 + 32, x0 : x0 + 32, 0]
    expected = (cells[2, 1, 0] * 255).round().to(torch.uint8).numpy().repeat(4, 0).repeat(4, 1)
    np.testing.assert_array_equal(tile, expected)


def test_colour_images_give_rgb_pictures():
    assert draw_grid(torch.rand(1, 2, 3, 4, 4), 2, title=["colour"]).shape[2] == 3


def test_traversal_grid_and_gif(vae, data, tmp_path):
    stats = latent_stats(vae, data.images)
    bases = stats.codes[:2]
    t = traverse(vae, stats, bases, ["a", "b"], steps=5)
    grid = traversal_figure(t)
    one_more = traversal_figure(traverse(vae, stats, bases, ["a", "b"], steps=6))
    assert grid.shape[0] == one_more.shape[0]
    assert one_more.shape[1] - grid.shape[1] == 2 * (64 + PAD)  # two bases, 8 px digits shown at 64 px
    frames = traversal_frames(t)
    assert len(frames) == 2 * (5 - 1)
    assert len({f.shape for f in frames}) == 1  # one size for every frame
    save_gif(frames, tmp_path / "t.gif", duration_ms=50)
    with Image.open(tmp_path / "t.gif") as im:
        assert im.n_frames == 8 and im.size == (frames[0].shape[1], frames[0].shape[0])
        assert im.info["duration"] == 50 and im.info["loop"] == 0
        read = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(im)]
    np.testing.assert_array_equal(read[3], frames[3][:, :, 0])
    np.testing.assert_array_equal(read[1], read[7])  # forth and back: step 1 again at the end


def test_traversal_view_writes_a_png_and_a_gif_of_at_least_16_frames(vae, data, tmp_path):
    pictures = traversal_view(vae, data, steps=4, count=1, top=2)
    paths = write_pictures(pictures, tmp_path / "out")
    assert [p.name for p in paths] == ["traversal.png", "traversal.gif"]
    with Image.open(paths[1]) as gif:
        assert gif.n_frames == 30 >= 16
    with Image.open(paths[0]) as png:
        assert png.size == (pictures[0].data.shape[1], pictures[0].data.shape[0])


def test_same_seed_same_pixels(vae, data):
    a = reconstructions_view(vae, data, count=6, seed=4)[0].data
    b = reconstructions_view(vae, data, count=6, seed=4)[0].data
    c = reconstructions_view(vae, data, count=6, seed=5)[0].data
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    s1, s2 = samples_figure(sample(vae, 9, seed=1)), samples_figure(sample(vae, 9, seed=1))
    assert np.array_equal(s1, s2)


def test_every_view_renders(vae, data, tmp_path):
    pictures = [*reconstructions_view(vae, data, count=3), *samples_view(vae, data, count=4),
                *interpolation_view(vae, data, count=2, steps=3), *latent_map_view(vae, data)]
    paths = write_pictures(pictures, tmp_path)
    assert [p.name for p in paths] == ["reconstructions.png", "samples.png", "interpolation.png", "latent_map.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("view", "kwargs", "message"), [
    (traversal_view, {"dims": [9]}, r"latent dimension 9 is out of range: the model has latent_dim 4"),
    (traversal_view, {"steps": 1}, r"steps must be an integer >= 2"),
    (traversal_view, {"indices": [300]}, r"image index 300 is out of range: the split has 300 images"),
    (reconstructions_view, {"indices": [-1]}, r"image index -1 is out of range"),
    (interpolation_view, {"pairs": [(0, 999)]}, r"image index 999 is out of range"),
    (latent_map_view, {"color_by": "scale"}, r"has class labels only"),
    (latent_map_view, {"method": "umap"}, r"unknown projection 'umap'"),
])
def test_bad_options_are_one_line_errors(vae, data, view, kwargs, message):
    with pytest.raises(UserError, match=message) as info:
        view(vae, data, **kwargs)
    assert "\n" not in str(info.value)


def test_an_output_directory_under_a_file_is_refused_without_writing(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file; choose another --out"):
        check_out_dir(tmp_path / "file" / "sub")
    assert check_out_dir(tmp_path / "new" / "dir") == (tmp_path / "new" / "dir").absolute()
    assert not (tmp_path / "new").exists()
