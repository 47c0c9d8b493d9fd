"""A classifier you keep: a frozen encoder (by reference) + a retrained head, in one directory.

Layout (format 1), written atomically (a temporary sibling renamed into place)::

    DIR/head.safetensors   the head's weights: feature mean/std (D,), linear layer(s)
    DIR/classifier.json    kind, format, encoder reference, head shape, class names,
                           preprocessing, the measured accuracy, and sha256 checksums

The encoder is not copied: ``classifier.json`` names it (a run / checkpoint path, or
``torchvision:<model>:<node>`` with its weights) together with the sha256 of its weights, and
loading refuses an encoder whose weights changed. ``checksums`` holds the sha256 of
``head.safetensors`` and of ``classifier.json`` itself (with that field left out), so a directory
edited after it was written is refused, as feature caches are. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from autoenc.core.atomic import atomic_dir
from autoenc.core.errors import UserError
from autoenc.features.cache import file_sha256

KIND = "autoenc-classifier"
FORMAT = 1
HEAD, META = "head.safetensors", "classifier.json"
#: ``FrozenEncoder.weights`` of a torchvision model drawn at random: ``"random (seed N)"``.
_RANDOM, _FILE = "random (seed ", "file "


class Head(nn.Module):
    """The new last layer: standardised features -> class logits.

    ``hidden=None`` is softmax regression (one linear layer); ``hidden=H`` puts one ReLU layer
    of width H before it. The features' training mean and std are buffers, so the head takes
    raw encoder outputs.

    Args:
        dim: D, the feature size.
        n_classes: K, the number of classes.
        hidden: width of the optional hidden layer.
    """

    def __init__(self, dim: int, n_classes: int, hidden: int | None = None) -> None:
        super().__init__()
        self.dim, self.n_classes, self.hidden = int(dim), int(n_classes), hidden
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        if hidden is None:
            self.layers = nn.Sequential(nn.Linear(dim, n_classes))
        else:
            self.layers = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features: (B, D) float -> (B, K) logits."""
        return self.layers((features - self.mean) / self.std)


def encoder_reference(meta: dict[str, Any]) -> dict[str, Any]:
    """How to load again the encoder a feature cache was built with (from its meta.json):
    ``{"source", "sha256", "weights" (as described), "options": load_encoder's keywords}``.

    Raises:
        UserError: the cache was built from an in-memory model, which no path names.
    """
    source = str(meta.get("encoder_source", ""))
    spec = meta.get("encoder") or {}
    described = str(meta.get("encoder_weights", "unknown"))
    if source.startswith("<in-memory"):
        raise UserError("the cache was built from an in-memory model, which a classifier cannot name; export "
                        "or save it (a checkpoint or export_encoder directory) and build the cache from that path")
    options: dict[str, Any] = {}
    if source.startswith("torchvision:"):
        preprocess = ((meta.get("data") or {}).get("transform") or {}).get("preprocess") or {}
        options = {"pool": spec.get("pool", "avg"), "image_size": preprocess.get("resize")}
        if described.startswith(_RANDOM):
            options["seed"] = int(described[len(_RANDOM):].rstrip(")"))
        elif described.startswith(_FILE):
            options["weights"] = str(Path(described[len(_FILE):]).resolve())
        else:  # a weights enum, e.g. ResNet18_Weights.IMAGENET1K_V1
            options["weights"] = described
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise UserError(f"the cache's encoder {source!r} is not a path that exists here (a run, checkpoint or "
                            "export directory), so a classifier cannot name it; build the cache from a saved "
                            "encoder, or run from the directory the cache was built in")
        source = str(path.resolve())
    return {"source": source, "sha256": spec.get("sha256"), "weights": described, "options": options}


def load_reference(reference: dict[str, Any]) -> Any:
    """The :class:`~autoenc.features.encoders.FrozenEncoder` a reference names, checked against
    the sha256 of the weights it was trained on.

    Raises:
        UserError: it cannot be loaded, or its weights are not the recorded ones.
    """
    from autoenc.features.encoders import load_encoder

    encoder = load_encoder(reference["source"], **reference.get("options", {}))
    if reference.get("sha256") and encoder.sha256 != reference["sha256"]:
        raise UserError(f"encoder {reference['source']} has other weights than the classifier was trained on "
                        f"(sha256 {encoder.sha256[:12]} found, {reference['sha256'][:12]} recorded); retrain the "
                        "classifier on a cache of this encoder")
    return encoder


@dataclass
class Classifier:
    """A frozen encoder and a retrained head: images -> class probabilities.

    Attributes:
        head: the retrained :class:`Head` ((B, D) features -> (B, K) logits).
        class_names: K names, index = class.
        encoder_ref: the encoder reference (see :func:`encoder_reference`).
        image_shape: (C, H, W) the encoder was given when the cache was built; images of
            another size or channel count are converted to it (:meth:`prepare`).
        report: what retraining measured (accuracy, interval, chance, per class), for people.
    """

    head: Head
    class_names: list[str]
    encoder_ref: dict[str, Any]
    image_shape: tuple[int, int, int]
    report: dict[str, Any] = field(default_factory=dict)
    _encoder: Any = field(default=None, repr=False)

    @property
    def encoder(self) -> Any:
        """The frozen encoder (loaded on first use, its weights checked against the reference)."""
        if self._encoder is None:
            self._encoder = load_reference(self.encoder_ref)
        return self._encoder

    def preprocessing(self) -> dict[str, Any]:
        """How images become encoder inputs, for classifier.json."""
        return {"image_shape": list(self.image_shape), "scale": "uint8 / 255",
                "channels": "grey repeated to RGB, RGB reduced to luma (ITU-R BT.601)",
                "resize": "centre square crop, then bilinear (antialiased) to image_shape"}

    def prepare(self, images: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(B, C, H, W) uint8, or float in [0, 1], of any size and 1 or 3 channels -> (B, *image_shape)
        float32 in [0, 1], the way the cache's images were prepared."""
        from autoenc.data.transforms import conform, to_float

        x = torch.as_tensor(images)
        if x.ndim == 3:  # one image
            x = x.unsqueeze(0)
        if x.ndim != 4:
            raise UserError(f"images must be (B, C, H, W), got shape {tuple(x.shape)}")
        if x.dtype != torch.uint8:
            x = (x.float().clamp(0, 1) * 255).round().to(torch.uint8)
        c, h, w = self.image_shape
        if h != w and tuple(x.shape[-2:]) != (h, w):
            raise UserError(f"this classifier takes {h} x {w} images and cannot resize to a non-square size; "
                            f"give {h} x {w} images")
        return to_float(conform(x, h if tuple(x.shape[-2:]) != (h, w) else None, c))

    def features(self, images: torch.Tensor | np.ndarray, batch_size: int = 256) -> torch.Tensor:
        """(B, C, H, W) images -> (B, D) encoder features."""
        x = self.prepare(images)
        with torch.inference_mode():
            return torch.cat([self.encoder(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])

    def predict_proba(self, images: torch.Tensor | np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(B, C, H, W) images (any size, 1 or 3 channels) -> (B, K) class probabilities (rows sum to 1)."""
        self.head.eval()
        with torch.inference_mode():
            return torch.softmax(self.head(self.features(images, batch_size)), dim=1).numpy()

    def predict(self, images: torch.Tensor | np.ndarray, batch_size: int = 256) -> list[str]:
        """(B, C, H, W) images -> B class names (the most probable class of each)."""
        return [self.class_names[i] for i in self.predict_proba(images, batch_size).argmax(1)]

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the classifier directory ``path`` atomically (see the module docstring)."""
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()}
        with atomic_dir(path, overwrite=overwrite) as tmp:
            save_file(state, str(tmp / HEAD))
            meta = {"kind": KIND, "format": FORMAT, "encoder": self.encoder_ref,
                    "head": {"dim": self.head.dim, "n_classes": self.head.n_classes, "hidden": self.head.hidden,
                             "kind": "softmax regression" if self.head.hidden is None else "one hidden ReLU layer"},
                    "class_names": list(self.class_names), "preprocessing": self.preprocessing(),
                    "report": self.report}
            meta["checksums"] = {HEAD: file_sha256(tmp / HEAD), META: _json_sha256(meta)}
            (tmp / META).write_text(json.dumps(meta, indent=2) + "\n")
        return Path(path)


def _json_sha256(meta: dict[str, Any]) -> str:
    """sha256 of classifier.json's content without its ``checksums`` (canonical JSON)."""
    body = {k: v for k, v in meta.items() if k != "checksums"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _refuse(path: Path, why: str) -> UserError:
    return UserError(f"{str(path)!r} is not a usable classifier directory ({why}); write one with "
                     "`autoenc retrain CACHE --out DIR`")


def load_classifier(path: str | os.PathLike) -> Classifier:
    """Open a classifier directory written by :func:`~autoenc.features.retrain.retrain`.

    The encoder is loaded on first use (``classifier.encoder``), so opening is cheap.

    Raises:
        UserError: not a directory, not a classifier, another format, or edited after it was
            written (a checksum differs).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path).expanduser()
    if not path.is_dir():
        raise _refuse(path, "no such directory")
    try:
        meta = json.loads((path / META).read_text())
    except FileNotFoundError:
        raise _refuse(path, f"no {META}") from None
    except OSError as err:
        raise _refuse(path, f"cannot read {META}: {err.strerror}") from None
    except ValueError as err:
        raise _refuse(path, f"{META} is not JSON: {err}") from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise _refuse(path, f"{META} is not a classifier's")
    if meta.get("format") != FORMAT:
        raise _refuse(path, f"format {meta.get('format')!r}, this autoenc reads format {FORMAT}")
    sums = meta.get("checksums") or {}
    if sums.get(META) != _json_sha256(meta):
        raise _refuse(path, f"{META} was edited after it was written (its sha256 differs)")
    if not (path / HEAD).is_file():
        raise _refuse(path, f"{HEAD} is missing")
    if sums.get(HEAD) != file_sha256(path / HEAD):
        raise _refuse(path, f"{HEAD} was edited or damaged after it was written (its sha256 differs)")
    shape = meta["head"]
    head = Head(shape["dim"], shape["n_classes"], shape["hidden"])
    try:
        head.load_state_dict(load_file(str(path / HEAD)))
    except (SafetensorError, RuntimeError) as err:
        raise _refuse(path, f"{HEAD} does not fit the head: {str(err).splitlines()[0][:100]}") from None
    head.eval()
    return Classifier(head=head, class_names=list(meta["class_names"]), encoder_ref=meta["encoder"],
                      image_shape=tuple(meta["preprocessing"]["image_shape"]), report=meta.get("report") or {})


def read_images(paths: Sequence[str | os.PathLike]) -> tuple[list[tuple[Path, torch.Tensor]], list[tuple[Path, str]]]:
    """Image files and folders (searched recursively, sorted) -> ([(file, uint8 (C, H, W))],
    [(file, one line saying why it could not be read)]). Each file keeps its own size and channels."""
    from autoenc.data.image_files import IMAGE_EXTENSIONS, decode_image

    files: list[Path] = []
    failed: list[tuple[Path, str]] = []
    for given in paths:
        p = Path(given).expanduser()
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
            if not found:
                failed.append((p, f"no image files in folder {str(p)!r}"))
            files += found
        elif p.is_file():
            files.append(p)
        else:
            failed.append((p, f"no such file or folder {str(p)!r}"))
    images = []
    for f in files:
        try:
            images.append((f, decode_image(f, None, _channels_of(f))))
        except UserError as err:  # decode_image's DataError names the file and the reason
            failed.append((f, str(err)))
    return images, failed


def _channels_of(file: Path) -> int:
    """1 for a grey image file, else 3 (an unreadable file is left to decode_image to report)."""
    from PIL import Image

    try:
        with Image.open(file) as im:
            return 1 if im.mode in ("1", "L", "I", "I;16", "F", "LA") else 3
    except (OSError, ValueError, SyntaxError):
        return 3
