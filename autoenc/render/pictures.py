"""Pictures a command writes: a named PNG array, GIF frames or a matplotlib figure, shown
inline in notebooks, written into an output directory checked before any work is done."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoenc.core.atomic import check_dir_creatable, make_dir
from autoenc.core.errors import UserError

__all__ = ["Picture", "check_out_dir", "write_pictures"]


@dataclass
class Picture:
    """One output file: ``data`` is an (H, W, C) uint8 array (PNG), a list of them (GIF)
    or a matplotlib Figure (PNG)."""

    name: str
    data: Any
    duration_ms: int = 100

    def _repr_png_(self) -> bytes:
        """PNG bytes, so a notebook shows the picture inline (a GIF shows its first frame)."""
        import io

        from PIL import Image

        buffer = io.BytesIO()
        if isinstance(self.data, list | np.ndarray):
            frame = self.data[0] if isinstance(self.data, list) else self.data
            Image.fromarray(np.asarray(frame).squeeze()).save(buffer, format="PNG")
        else:
            self.data.savefig(buffer, format="png")
        return buffer.getvalue()

    def write(self, directory: str | os.PathLike) -> Path:
        from autoenc.core.png import save_png

        path = Path(directory) / self.name
        if isinstance(self.data, list):
            from autoenc.render.look_figures import save_gif

            save_gif(self.data, path, self.duration_ms)
        elif isinstance(self.data, np.ndarray):
            save_png(self.data, path)
        else:
            from autoenc.render.charts import save_figure

            save_figure(self.data, path)
        return path


def check_out_dir(out: str | os.PathLike) -> Path:
    """Refuse an output directory that could not be created, without creating anything: the
    nearest existing ancestor must be a writable directory."""
    path = Path(out).expanduser().absolute()
    try:
        check_dir_creatable(path)
    except OSError as err:  # from its nearest existing ancestor-or-self
        why = "is a file" if isinstance(err, NotADirectoryError) else "is not writable"
        raise UserError(f"cannot create output directory {str(path)!r}: it or a parent {why}; "
                        "choose another --out") from None
    return path


def write_pictures(pictures: list[Picture], out: str | os.PathLike) -> list[Path]:
    """Write every picture into directory ``out`` (created)."""
    directory = make_dir(out)
    return [p.write(directory) for p in pictures]
