"""``autoenc preview``: a PNG grid of a source's images (``autoenc sources`` is in :mod:`autoenc.cli.sources`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import COUNT, OPTIONAL_COUNT, PATH, SPLIT_OR_ALL
from autoenc.core.errors import UserError

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule


def preview_data(*, data: ImageDataModule, out: Path = Path("runs/preview.png"), count: int = 64,
                 split: Literal["all", "train", "val"] = "all", columns: int | None = None) -> int:
    """Write a grid of images from a data source.

    The images are those the data module serves (after resizing and channel conversion), each
    drawn at least CELL_PIXELS wide (nearest-neighbour, so pixels stay sharp) and labelled with
    its index in the split and, for labelled data, its class.

    Args:
        data: the images (the same options as `autoenc fit`'s data).
        out: image to write.
        count: number of images: the first ones of the split.
        split: which items.
        columns: grid columns (default: ~sqrt(count)).
    """
    from autoenc.core.atomic import check_file_creatable
    from autoenc.core.png import image_grid, save_png

    out = check_file_creatable(Path(out).expanduser())  # before any data is read or downloaded
    image_format = _format_for(out)
    data.prepare_data()
    images, labels, total = first_images(data, split, count)
    columns = columns or math.ceil(math.sqrt(len(images)))
    c, h, w = images.shape[1:]
    scale = max(1, math.ceil(CELL_PIXELS / max(h, w)))
    grid = image_grid(images, columns, pad=PAD, pad_value=128).repeat(scale, 0).repeat(scale, 1)
    save_png(label_cells(grid, labels, columns, (h + PAD) * scale, (w + PAD) * scale, PAD * scale), out,
             image_format=image_format)
    note = f" (the {split} split has only {total})" if total < count else ""
    print(f"wrote {out}: {len(images)} images{note} of {data.source.name}, {c} x {h} x {w}, "
          f"{math.ceil(len(images) / columns)} x {columns} grid")
    return 0


#: memory_budget_gb 0 streams sources that can stream, so a preview of CelebA decodes `count`
#: files instead of all 202,599; num_workers 0: a few items need no processes.
preview = Generated(preview_data, "autoenc preview", data="always",
                    data_defaults={"memory_budget_gb": 0.0, "num_workers": 0},
                    params={"out": [PATH], "count": COUNT, "split": SPLIT_OR_ALL, "columns": OPTIONAL_COUNT})


#: The smallest width of a preview cell, in pixels (8 x 8 digits are drawn 8 times larger).
CELL_PIXELS = 64
PAD = 2


def label_cells(grid, labels: list[str], columns: int, cell_h: int, cell_w: int, pad: int):
    """``grid`` (H, W, C) uint8 with ``labels[i]`` written in white on black at the top left of
    cell ``i`` (cells ``cell_h`` x ``cell_w`` pixels with their padding, framed by ``pad``)."""
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid)
    draw = ImageDraw.Draw(image)
    white, black = (255 if image.mode == "L" else (255, 255, 255)), (0 if image.mode == "L" else (0, 0, 0))
    for i, label in enumerate(labels):
        r, q = divmod(i, columns)
        xy = (pad + q * cell_w, pad + r * cell_h)
        draw.rectangle(draw.textbbox(xy, label), fill=black)
        draw.text(xy, label, fill=white)
    array = np.asarray(image)
    return array[..., None] if array.ndim == 2 else array


def first_images(module, split: str, count: int):
    """The first ``count`` items of ``split`` (in dataset order) as uint8 (N, C, H, W), their
    labels ("index" or "index: class") and the split's size; only those items are decoded when
    the module streams."""
    import torch

    module.setup()
    if split == "all":
        idx = torch.cat([module.splits["train"], module.splits["val"]]).sort().values
    else:
        idx = module.splits[split]
    chosen = idx[:count]
    if module.data is not None:
        images = module.data.images[chosen.to(module.data.images.device)].cpu()
        targets = None if module.data.targets is None else module.data.targets[chosen.to(module.data.targets.device)]
    else:
        items = [module.stream_dataset[i] for i in chosen.tolist()]
        images, targets = torch.stack([x for x, _ in items]), torch.as_tensor([t for _, t in items])
    classes = targets is not None and targets.ndim == 1
    labels = [f"{i}: {int(t)}" if classes else str(i) for i, t in zip(chosen.tolist(), targets if classes else chosen,
                                                                       strict=True)]
    return images, labels, len(idx)


def _format_for(out: Path) -> str:
    from PIL import Image

    formats = Image.registered_extensions()
    fmt = formats.get(out.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise UserError(f"--out {str(out)!r}: unknown image type {out.suffix or '(no suffix)'!r}; "
                        "use a .png file")
    return fmt
