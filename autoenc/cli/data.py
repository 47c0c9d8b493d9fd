"""``autoenc preview``: a PNG grid of a source's images (``autoenc sources`` is in :mod:`autoenc.cli.sources`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from autoenc.cli._checks import COUNT, OPTIONAL_COUNT, PATH, SPLIT_OR_ALL
from autoenc.cli._generate import Generated
from autoenc.errors import UserError

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule


def preview_data(*, data: ImageDataModule, out: Path = Path("runs/preview.png"), count: int = 64,
                 split: Literal["all", "train", "val"] = "all", columns: int | None = None) -> int:
    """Write a grid of images from a data source.

    The images are those the data module serves (after resizing and channel conversion).

    Args:
        data: the images (the same options as `autoenc fit`'s data).
        out: image to write.
        count: number of images: the first ones of the split.
        split: which items.
        columns: grid columns (default: ~sqrt(count)).
    """
    from autoenc.atomic import check_file_creatable
    from autoenc.imaging import image_grid, save_png

    out = check_file_creatable(Path(out).expanduser())  # before any data is read or downloaded
    image_format = _format_for(out)
    data.prepare_data()
    images, total = first_images(data, split, count)
    columns = columns or math.ceil(math.sqrt(len(images)))
    save_png(image_grid(images, columns, pad_value=128), out, image_format=image_format)
    c, h, w = images.shape[1:]
    note = f" (the {split} split has only {total})" if total < count else ""
    print(f"wrote {out}: {len(images)} images{note} of {data.source.name}, {c} x {h} x {w}, "
          f"{math.ceil(len(images) / columns)} x {columns} grid")
    return 0


#: memory_budget_gb 0 streams sources that can stream, so a preview of CelebA decodes `count`
#: files instead of all 202,599; num_workers 0: a few items need no processes.
preview = Generated(preview_data, "autoenc preview", data="always",
                    data_defaults={"memory_budget_gb": 0.0, "num_workers": 0},
                    params={"out": [PATH], "count": COUNT, "split": SPLIT_OR_ALL, "columns": OPTIONAL_COUNT})


def first_images(module, split: str, count: int):
    """The first ``count`` items of ``split`` (in dataset order) as uint8 (N, C, H, W), and the
    split's size; only those items are decoded when the module streams."""
    import torch

    module.setup()
    if split == "all":
        idx = torch.cat([module.splits["train"], module.splits["val"]]).sort().values
    else:
        idx = module.splits[split]
    chosen = idx[:count]
    if module.data is not None:
        return module.data.images[chosen.to(module.data.images.device)].cpu(), len(idx)
    return torch.stack([module.stream_dataset[i][0] for i in chosen.tolist()]), len(idx)


def _format_for(out: Path) -> str:
    from PIL import Image

    formats = Image.registered_extensions()
    fmt = formats.get(out.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise UserError(f"--out {str(out)!r}: unknown image type {out.suffix or '(no suffix)'!r}; "
                        "use a .png file")
    return fmt
