"""Checkpoints and encoder exports: save atomically, load without unpickling code."""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from autoenc.core.atomic import atomic_dir, atomic_file
from autoenc.core.errors import CheckpointError, first_line
from autoenc.models.autoencoder_module import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_KEY,
    MODELS,
    AutoencoderModule,
    upgrade_hparams,
)
from autoenc.models.heads import CodeHead, build_head

#: 2: the code head and latent_shape are stored (format 1 assumed a slice of the net's output).
EXPORT_FORMAT = 2


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint IO that writes to a temporary file and renames it into place, so an
    interrupted save never leaves a truncated ``.ckpt``."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        with atomic_file(path) as f:
            torch.save(checkpoint, f)


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A ``.ckpt`` file, or a run directory -> its best (else last) checkpoint.

    "Best" is the ``checkpoints/best*.ckpt`` with the lowest monitored score (val/loss) that
    its ModelCheckpoint state records; files without a readable score come last (newest
    first among them).
    """
    p = Path(path).expanduser()
    if p.is_dir():
        ckpts = p / "checkpoints"
        best = _by_score(list(ckpts.glob("best*.ckpt")))
        for candidate in [*best, ckpts / "last.ckpt", p / "last.ckpt"]:
            if candidate.is_file():
                return candidate
        raise CheckpointError(f"no checkpoint in {str(p)!r} (looked for checkpoints/best*.ckpt and last.ckpt); train first")
    if not p.is_file():
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist")
    return p


def _recorded_score(path: Path) -> float | None:
    """The monitored score ModelCheckpoint recorded when it wrote ``path`` (None if absent)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        states = [v for k, v in ckpt.get("callbacks", {}).items() if str(k).startswith("ModelCheckpoint")]
    except Exception:  # unreadable files are reported by read_checkpoint, not here
        return None
    for state in states:
        score = state.get("current_score") if isinstance(state, dict) else None
        if score is not None and bool(torch.isfinite(torch.as_tensor(score))):
            return float(score)
    return None


def _by_score(paths: list[Path]) -> list[Path]:
    """``paths`` ordered best (lowest score) first; unscored ones after, newest first."""
    if len(paths) < 2:
        return paths
    scored = [(_recorded_score(q), q) for q in paths]
    known = sorted((s, q) for s, q in scored if s is not None)
    unknown = sorted((q for s, q in scored if s is None), key=lambda q: q.stat().st_mtime, reverse=True)
    return [q for _, q in known] + unknown


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint dict with ``weights_only=True`` (no code is unpickled), check it is
    one of ours, and bring an older file's model name and hyperparameters to today's
    (:func:`~autoenc.models.autoencoder_module.upgrade_hparams`). The same unchanged file is
    read once (:data:`_LAST_READ`); the dict returned is shared, so do not modify it."""
    global _LAST_READ
    p = resolve_checkpoint(path)
    stat = p.stat()
    key = (str(p.resolve()), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if _LAST_READ is not None and _LAST_READ[0] == key:
        return _LAST_READ[1]
    ckpt = _load_checked(p)
    _LAST_READ = (key, ckpt)
    return ckpt


#: The file :func:`read_checkpoint` read last (path, mtime, size, inode) and its dict: a command
#: that opens a run in several steps (its data section for the options, then the model) reads
#: the file once. The dict is shared: callers read it and never change it.
_LAST_READ: tuple[tuple[str, int, int, int], dict[str, Any]] | None = None


def _load_checked(p: Path) -> dict[str, Any]:
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's weights-only message is a paragraph about torch.load; what matters here is
        # that the file is not a checkpoint we can load safely.
        raise CheckpointError(
            f"{str(p)!r} is not a readable checkpoint (not a PyTorch file, or it pickles objects other "
            "than tensors and plain data, which autoenc never loads)"
        ) from None
    except Exception as err:  # noqa: BLE001 - torch.load fails in many ways on foreign bytes (IndexError, ...)
        first = first_line(err)
        raise CheckpointError(
            f"{str(p)!r} is not a readable checkpoint (truncated, or not a PyTorch file: {first[:120]})"
        ) from None
    if not isinstance(ckpt, dict) or CHECKPOINT_KEY not in ckpt or "state_dict" not in ckpt:
        raise CheckpointError(f"{str(p)!r} is not an autoenc checkpoint (no {CHECKPOINT_KEY!r} entry); "
                              "train it with `autoenc fit`")
    mark = ckpt[CHECKPOINT_KEY]
    if not isinstance(mark, dict) or not isinstance(mark.get("model"), str):
        raise CheckpointError(f"{str(p)!r} has a damaged {CHECKPOINT_KEY!r} entry ({mark!r}); train it again")
    if mark.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{str(p)!r} is in checkpoint format {mark.get('format')!r}; this autoenc reads "
                              f"format {CHECKPOINT_FORMAT}: use the autoenc version that wrote it")
    model, hparams = upgrade_hparams(mark["model"], ckpt.get("hyper_parameters") or {})
    ckpt[CHECKPOINT_KEY] = {**mark, "model": model}
    ckpt["hyper_parameters"] = hparams
    return ckpt


def load_model(path: str | os.PathLike, expected: type[AutoencoderModule] | None = None,
               map_location: str | torch.device = "cpu") -> AutoencoderModule:
    """Rebuild the model saved in a checkpoint (or a run directory's best checkpoint), in eval
    mode, from the file alone.

    Args:
        expected: refuse a checkpoint of another model class.
    Raises:
        CheckpointError: not ours, damaged, or of the wrong class.
    """
    return build_model(read_checkpoint(path), path, expected, map_location)


def build_model(ckpt: dict[str, Any], path: str | os.PathLike, expected: type[AutoencoderModule] | None = None,
                map_location: str | torch.device = "cpu") -> AutoencoderModule:
    """The model of a checkpoint dict already read by :func:`read_checkpoint` (``path`` names
    it in errors), in eval mode; see :func:`load_model`."""
    name = ckpt[CHECKPOINT_KEY]["model"]
    cls = MODELS.get(name)
    if expected is not None and not issubclass(cls, expected):
        raise CheckpointError(f"{str(path)!r} holds a {cls.__name__} ({name!r}) model, not the "
                              f"{expected.__name__} asked for; load it without expected= or pick another file")
    hparams = {k: v for k, v in (ckpt.get("hyper_parameters") or {}).items() if not k.startswith("_")}
    if "input_shape" not in hparams:
        raise CheckpointError(f"{str(path)!r} does not record the model's input_shape; it was not written "
                              "by autoenc fit, train it again")
    hparams["input_shape"] = tuple(hparams["input_shape"])
    try:
        model = cls(**hparams)
    except TypeError as err:
        raise CheckpointError(f"{str(path)!r}: its hyperparameters do not fit {cls.__name__} ({err}); "
                              "use the autoenc version that wrote it") from None
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"{str(path)!r}: weights do not match the model ({first_line(err)})") from None
    return model.to(map_location).eval()


def datamodule_config(path: str | os.PathLike) -> dict[str, Any] | None:
    """The data module's hyperparameters stored in a checkpoint (source spec, image_size, ...)."""
    return read_checkpoint(path).get("datamodule_hyper_parameters")


def state_sha256(state: dict[str, torch.Tensor]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of a state dict, in key order."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes())
    return h.hexdigest()


def export_encoder(model: AutoencoderModule, directory: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``encoder.safetensors`` + ``encoder.json`` (encoder net and its options, the code
    head, input_shape, latent_shape, sha256) into ``directory``, atomically. The export maps
    (B, C, H, W) in [0, 1] to ``model.encode``'s codes (B, *latent_shape), exactly: the net, then
    the model's code head (posterior mean, TopK, ...; see :mod:`autoenc.models.heads`)."""
    from safetensors.torch import save_file

    if not isinstance(model, AutoencoderModule):
        raise TypeError(f"export_encoder: model must be an autoenc model (run.model or load_model(path)), "
                        f"got {type(model).__name__}")
    if not isinstance(directory, str | os.PathLike):
        raise TypeError(f"export_encoder: directory must be a path, got {type(directory).__name__}")
    state = {k: v.detach().cpu().contiguous() for k, v in model.encoder.state_dict().items()}
    meta = {
        "format": EXPORT_FORMAT,
        "kind": "autoenc-encoder",
        "model": model.model_name,
        "encoder": model.net.name,
        "net_options": model.net.options(),
        "input_shape": list(model.input_shape),
        "latent_dim": model.latent_dim,
        "latent_shape": list(model.latent_shape),
        "out_features": model.encoder_outputs(),
        "head": model.code_head().spec(),
        "sha256": state_sha256(state),
    }
    meta[METADATA_HASH] = metadata_sha256(meta)
    with atomic_dir(directory, overwrite=overwrite) as tmp:
        save_file(state, str(tmp / "encoder.safetensors"))
        (tmp / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n")
    return Path(directory)


class ExportedEncoder(torch.nn.Module):
    """A model's encode path without the model: (B, C, H, W) in [0, 1] -> (B, *latent_shape),
    ``head(net(x))`` as in :meth:`~autoenc.models.AutoencoderModule.encode`.

    Attributes:
        net: the encoder net; head: the code head (no parameters); latent_dim: code size
        (C*h*w for a spatial code); latent_shape: shape of one code; input_shape: (C, H, W).
    """

    def __init__(self, net: torch.nn.Module, head: CodeHead, latent_shape: tuple[int, ...],
                 input_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.net = net
        self.head = head
        self.latent_shape = tuple(int(s) for s in latent_shape)
        self.latent_dim = math.prod(self.latent_shape)
        self.input_shape = input_shape

    @classmethod
    def of(cls, model: AutoencoderModule) -> ExportedEncoder:
        """``model``'s encode path (sharing the encoder net's weights)."""
        return cls(model.encoder, model.code_head(), tuple(model.latent_shape), tuple(model.input_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(self.net(x))
        return z.reshape(len(z), *self.latent_shape)


def load_exported_encoder(directory: str | os.PathLike) -> ExportedEncoder:
    """Load an :func:`export_encoder` directory (no Lightning, no pickle), verifying its sha256."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from autoenc.nets import build_encoder

    d = Path(directory)
    needed = ("kind", "format", "encoder", "net_options", "input_shape", "latent_shape", "out_features", "head",
              "sha256")
    try:
        meta = json.loads((d / "encoder.json").read_text())
        if not isinstance(meta, dict):
            raise TypeError("not a JSON object")
        missing = [k for k in needed if k not in meta]
    except (OSError, ValueError, TypeError) as err:
        raise CheckpointError(f"{str(d)!r} is not an autoenc encoder export (encoder.json unreadable: {err})") from None
    if missing or meta["kind"] != "autoenc-encoder":
        what = f"encoder.json lacks {', '.join(missing)}" if missing else f"kind {meta['kind']!r}"
        raise CheckpointError(f"{str(d)!r} is not an autoenc encoder export ({what}); export it again")
    if meta["format"] != EXPORT_FORMAT:
        raise CheckpointError(f"{str(d)!r} is export format {meta['format']!r}; this autoenc reads format "
                              f"{EXPORT_FORMAT}: use the autoenc version that wrote it")
    try:
        state = load_file(str(d / "encoder.safetensors"))
    except (OSError, SafetensorError) as err:
        raise CheckpointError(f"{str(d / 'encoder.safetensors')!r} is unreadable ({err}); export again") from None
    if state_sha256(state) != meta["sha256"]:
        raise CheckpointError(f"{str(d)!r}: weights do not match encoder.json's sha256; export again")
    _check_export_metadata(d, meta)
    shape = tuple(meta["input_shape"])
    try:
        net = build_encoder(meta["encoder"], shape, meta["out_features"], meta["net_options"],
                            spatial=len(meta["latent_shape"]) == 3)
        net.load_state_dict(state)
        head = build_head(meta["head"])
    except (KeyError, RuntimeError, TypeError, ValueError) as err:
        raise CheckpointError(f"{str(d)!r}: encoder.json does not describe its weights ({first_line(err)})"
                              "; export again with this autoenc") from None
    return ExportedEncoder(net, head, tuple(meta["latent_shape"]), shape).eval()


#: encoder.json's hash of its own content (every other key, the weights' sha256 included), so an
#: edited latent_dim or input_shape is refused rather than read into wrong codes.
METADATA_HASH = "metadata_sha256"


def metadata_sha256(meta: dict[str, Any]) -> str:
    """sha256 of ``meta`` without :data:`METADATA_HASH`, as canonical JSON (sorted keys)."""
    body = {k: v for k, v in meta.items() if k != METADATA_HASH}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_export_metadata(d: Path, meta: dict[str, Any]) -> None:
    """Refuse an encoder.json edited after export: its own hash, and what it implies about the
    code: latent_shape positive integers whose product is latent_dim."""
    if meta.get(METADATA_HASH) != metadata_sha256(meta):
        raise CheckpointError(f"{str(d)!r}: encoder.json was changed after export (its {METADATA_HASH} does not "
                              "match its content); export the encoder again")
    shape = meta.get("latent_shape")
    if not (isinstance(shape, list) and shape and all(isinstance(s, int) and s >= 1 for s in shape)
            and math.prod(shape) == meta.get("latent_dim")):
        raise CheckpointError(f"{str(d)!r}: encoder.json's latent_shape {shape!r} does not match its latent_dim "
                              f"{meta.get('latent_dim')!r}; export the encoder again")
