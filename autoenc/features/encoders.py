"""Frozen encoders: any source of features as one ``nn.Module`` mapping images to vectors.

:func:`load_encoder` takes an autoenc checkpoint or run directory (its best, else last,
checkpoint), an :func:`~autoenc.runs.checkpoints.export_encoder` directory,
``torchvision:<model>[:<node>]`` (by default the input of the classification head, else any
graph node, pooled) or an in-memory model, and returns a :class:`FrozenEncoder`: eval mode, no
gradients, ``(B, C, H, W)`` float in [0, 1] -> ``(B, D)`` float32, carrying the input shape it
takes, its preprocessing and a fingerprint (sha256 of its weights) for feature caches.
"""

from __future__ import annotations

import copy
import difflib
import os
import pickle
import sys
import urllib.parse
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from autoenc.core.errors import CheckpointError, UserError, first_line
from autoenc.core.registry import Registry

#: ImageNet channel statistics every torchvision classification model was trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Pool = Literal["avg", "flatten"]
TRAINED = "trained (autoenc)"


class Preprocess(nn.Module):
    """What a torchvision backbone expects from images in [0, 1]: grey repeated to 3 channels,
    an optional resize, then ImageNet mean/std normalisation.

    Resize policy: images keep their own size unless ``image_size`` is given, in which case
    they are resized (bilinear, antialiased, square) to ``image_size`` x ``image_size``.
    """

    def __init__(self, image_size: int | None = None) -> None:
        super().__init__()
        self.image_size = image_size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 1 or 3, H, W) in [0, 1] -> (B, 3, H', W') normalised."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.image_size is not None and tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            x = nn.functional.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                                          antialias=True, align_corners=False)
        return (x - self.mean) / self.std

    def spec(self) -> dict[str, Any]:
        return {"channels": "grey repeated to 3", "resize": self.image_size,
                "normalize": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}}


class FrozenEncoder(nn.Module):
    """A frozen feature extractor: (B, C, H, W) float in [0, 1] -> (B, D) float32.

    Attributes:
        net: the wrapped network (its output is pooled / flattened to (B, D)).
        source: where it came from (path or ``torchvision:...``), for messages and caches.
        layer: which output is taken ("bottleneck", or a torchvision node name).
        input_shape: the (C, H, W) it takes, or None when any size with 1 or 3 channels works
            (torchvision backbones).
        preprocess: applied inside ``forward`` before ``net`` (None: images go in as they are).
        pool: how a (B, C', H', W') output becomes (B, D): global average (one number per
            channel) or flatten (the whole map).
        channels_last: run convolutions in NHWC memory layout (None: when the net has a
            Conv2d); oneDNN's NHWC kernels were 10-50% faster on CPU here (docs/benchmarks.md).
        weights: where the weights came from, for people (meta.json, messages): ``"trained
            (autoenc)"``, a torchvision enum (``"ResNet18_Weights.IMAGENET1K_V1"``), ``"file PATH"``
            or ``"random (seed N)"``. Not part of the fingerprint: ``sha256`` is.
    """

    def __init__(self, net: nn.Module, *, source: str, layer: str,
                 input_shape: tuple[int, int, int] | None, preprocess: Preprocess | None = None,
                 pool: Pool = "avg", channels_last: bool | None = None, weights: str = "unknown") -> None:
        super().__init__()
        if pool not in ("avg", "flatten"):
            raise UserError(f"pool must be 'avg' or 'flatten', got {pool!r}")
        self.net = net
        self.preprocess = preprocess
        self.source = source
        self.layer = layer
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
        self.pool = pool
        self.weights = weights
        if channels_last is None:
            channels_last = any(isinstance(m, nn.Conv2d) for m in net.modules())
        self.channels_last = channels_last
        if channels_last:
            net.to(memory_format=torch.channels_last)
        self._sha256: str | None = None
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrozenEncoder:
        """Always stays in eval mode: a frozen encoder's batch-norm statistics never move."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) float in [0, 1] -> (B, D) float32."""
        if x.ndim != 4:
            raise UserError(f"encoder input must be images (B, C, H, W), got shape {tuple(x.shape)}")
        self.check_input(tuple(x.shape[1:]))
        if self.preprocess is not None:
            x = self.preprocess(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out = self.net(x)
        if isinstance(out, dict):  # torchvision feature extractors return {node: tensor}
            out = next(iter(out.values()))
        if out.ndim > 2:
            out = out.flatten(2).mean(2) if self.pool == "avg" else out.flatten(1)
        return out.float()

    def check_input(self, shape: tuple[int, ...]) -> None:
        """Refuse images of a (C, H, W) this encoder cannot take, naming both shapes."""
        shape = tuple(int(s) for s in shape)
        if self.input_shape is not None:
            if shape != self.input_shape:
                raise UserError(
                    f"encoder {self.source} takes images {self.input_shape} (C, H, W) but the data has "
                    f"{shape}; set the data's image_size/channels to match (e.g. --data.image_size "
                    f"{self.input_shape[1]} --data.channels {self.input_shape[0]})")
        elif len(shape) != 3 or shape[0] not in (1, 3):
            raise UserError(f"encoder {self.source} takes grey or RGB images (1 or 3 channels), "
                            f"but the data has {shape} (C, H, W); set the data's channels to 1 or 3")

    def output_dim(self, shape: tuple[int, int, int]) -> int:
        """D for images of ``shape`` (C, H, W), by a one-image dry run; a clear error when the
        network cannot take that size."""
        self.check_input(shape)
        device = next((p.device for p in self.parameters()), torch.device("cpu"))
        try:
            with torch.inference_mode():
                return int(self(torch.zeros((1, *shape), device=device)).shape[1])
        except UserError:
            raise
        except (RuntimeError, ValueError, AssertionError, IndexError) as err:
            first = first_line(err)[:160]
            raise UserError(f"encoder {self.source} cannot take images {tuple(shape)} ({first}); "
                            "resize them (data image_size, or the encoder's image_size)") from None

    @property
    def sha256(self) -> str:
        """sha256 of the weights and buffers (preprocessing statistics included)."""
        if self._sha256 is None:
            from autoenc.runs.checkpoints import state_sha256

            self._sha256 = state_sha256(self.state_dict())
        return self._sha256

    def spec(self) -> dict[str, Any]:
        """The encoder fingerprint for a cache's meta.json: weights, layer, input shape, pooling
        (not the path it was loaded from: a moved run directory is the same encoder)."""
        return {"sha256": self.sha256, "layer": self.layer,
                "input_shape": None if self.input_shape is None else list(self.input_shape),
                "pool": self.pool}

    def transform_spec(self) -> dict[str, Any]:
        """What happens to images in [0, 1] before the network (part of the data fingerprint)."""
        return {"preprocess": None if self.preprocess is None else self.preprocess.spec(), "pool": self.pool}


# -- sources -------------------------------------------------------------------------------------
def _wrap_model(model: nn.Module, source: str, pool: Pool | None = None) -> FrozenEncoder:
    """An AutoencoderModule -> its encode path (``model.encode``: net + code head), as exported;
    codes (B, *latent_shape) become vectors by ``pool`` (None: flatten, the whole code)."""
    from autoenc.runs.checkpoints import ExportedEncoder

    # A copy of the net: freezing must not change the caller's model.
    net = ExportedEncoder(copy.deepcopy(model.encoder), model.code_head(), tuple(model.latent_shape),
                          tuple(model.input_shape))
    return _frozen_export(net, source, pool)


def _frozen_export(net: nn.Module, source: str, pool: Pool | None) -> FrozenEncoder:
    return FrozenEncoder(net, source=source, layer="bottleneck", input_shape=tuple(net.input_shape),
                         pool=pool or "flatten", weights=TRAINED)


def _load_checkpoint(source: str, *, pool: Pool | None = None, **options: Any) -> FrozenEncoder:
    from autoenc.runs.run import Run

    _no_options("an autoenc checkpoint", options)
    return _wrap_model(Run.open(source).model, source, pool)


def _load_export(source: str, *, pool: Pool | None = None, **options: Any) -> FrozenEncoder:
    from autoenc.runs.checkpoints import load_exported_encoder

    _no_options("an exported encoder", options)
    return _frozen_export(load_exported_encoder(source), source, pool)


def _no_options(what: str, options: dict[str, Any]) -> None:
    given = [k for k, v in options.items() if v is not None]
    if given:
        verb, pronoun = ("applies", "it") if len(given) == 1 else ("apply", "them")
        raise UserError(f"{', '.join(given)} only {verb} to torchvision encoders, not to {what}; drop {pronoun}")


def _closest(name: str, options: list[str], n: int = 5) -> str:
    close = difflib.get_close_matches(name, options, n=n, cutoff=0.5)
    return ", ".join(close) if close else ", ".join(options[:n]) + ", ..."


def _torchvision_weights(model_name: str, weights: str | os.PathLike | None) -> tuple[Any, Path | None]:
    """(weights enum or None, local file or None) from the ``weights`` argument."""
    if weights is None:
        return None, None
    path = Path(weights).expanduser()
    if path.exists() or os.sep in str(weights) or str(weights).endswith((".pth", ".pt", ".safetensors")):
        if not path.is_file():
            raise UserError(f"weights file {str(path)!r} does not exist; pass a local .pth/.safetensors file, "
                            "a weights enum name (e.g. IMAGENET1K_V1) or none")
        return None, path
    from torchvision.models import get_model_weights

    enum = get_model_weights(model_name)
    name = str(weights).rsplit(".", 1)[-1]
    members = list(enum.__members__)
    if name not in members:
        raise UserError(f"torchvision {model_name} has no weights {str(weights)!r}; known: {', '.join(members)} "
                        "(or a local weights file path, or none for random init)")
    return enum[name], None


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
        first = first_line(err)[:120]
        raise UserError(f"weights file {str(path)!r} is unreadable ({first}); pass a state_dict saved "
                        "with torch.save or safetensors") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UserError(f"weights file {str(path)!r} does not hold a state_dict (got {type(state).__name__})")
    return state


def _load_weights_file(model: nn.Module, model_name: str, path: Path) -> None:
    state = _read_state(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of another shape (e.g. {k}: {tuple(state[k].shape)} in the file, "
                         f"{tuple(own[k].shape)} in the model)")
        raise UserError(f"weights file {str(path)!r} does not match torchvision {model_name}: "
                        f"{'; '.join(parts)}; pass weights saved from {model_name}")
    model.load_state_dict(state)


def hub_file(url: str) -> Path:
    """Where ``torch.hub`` keeps the download of ``url``: ``<torch.hub.get_dir()>/checkpoints/<file name>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urllib.parse.urlparse(url).path).name


def _download(model_name: str, enum: Any, file: Path) -> None:
    """Fetch the weights ``enum`` into the torch hub cache ``file`` (checked against the hash in
    the file name, as torch.hub does); one line saying where to put the file when that fails."""
    match = torch.hub.HASH_REGEX.search(file.name)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(enum.url, str(file), match.group(1) if match else None,
                                       progress=sys.stderr.isatty())
    except (OSError, RuntimeError) as err:  # URLError, timeouts, an unwritable hub directory, a bad hash
        reason = " ".join(str(getattr(err, "reason", None) or getattr(err, "strerror", None) or err).split())[:120]
        raise UserError(f"cannot download torchvision {model_name} weights {enum!r} from {enum.url} ({reason}); "
                        f"offline, put that file at {file} (or pass --weights PATH to a local copy)") from None


def _pretrained(model_name: str, enum: Any) -> nn.Module:
    """torchvision ``model_name`` with the weights ``enum``, downloaded into the torch hub cache
    first when not there (see :func:`hub_file`)."""
    from torchvision.models import get_model

    file = hub_file(enum.url)
    if not file.is_file():
        _download(model_name, enum, file)
    try:
        return get_model(model_name, weights=enum)
    except (OSError, RuntimeError, pickle.UnpicklingError) as err:  # a cached file torch cannot read
        first = first_line(err)[:120]
        raise UserError(f"cannot load torchvision {model_name} weights {enum!r} from {file} ({first}); "
                        "delete that file to download it again") from None


def _seeded(model_name: str, seed: int) -> nn.Module:
    """torchvision ``model_name`` with random weights drawn from ``seed`` (the caller's RNG untouched):
    the same seed always builds the same network, so its feature cache is reused."""
    from torchvision.models import get_model

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"seed must be an integer >= 0, got {seed!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_model(model_name, weights=None)


def torchvision_network(model_name: str, *, weights: str | os.PathLike | None = None,
                        seed: int | None = None) -> tuple[nn.Module, str]:
    """A whole torchvision classification model in eval mode and a description of its weights:
    ``weights`` (an enum name such as ``IMAGENET1K_V1``, or a local file) or, without them,
    random weights drawn with ``seed`` (default 0).

    Raises:
        UserError: an unknown model (with close names), weights it does not have, seed with weights.
    """
    import torchvision

    known = torchvision.models.list_models(module=torchvision.models)
    if model_name not in known:
        raise UserError(f"unknown torchvision model {model_name!r}; close names: {_closest(model_name, known)} "
                        "(torchvision.models.list_models() lists all)")
    enum, path = _torchvision_weights(model_name, weights)
    if weights is not None and seed is not None:
        raise UserError(f"seed only applies to random weights (no --weights), got seed {seed} with weights "
                        f"{str(weights)!r}; drop one")
    if enum is not None:
        model, described = _pretrained(model_name, enum), repr(enum)
    else:
        seed = 0 if seed is None else seed
        model = _seeded(model_name, seed)
        described = f"random (seed {seed})"
    if path is not None:
        _load_weights_file(model, model_name, path)
        described = f"file {path}"
    return model.eval(), described


def _load_torchvision(source: str, *, weights: str | os.PathLike | None = None, pool: Pool | None = None,
                      image_size: int | None = None, seed: int | None = None) -> FrozenEncoder:
    from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

    _, _, rest = source.partition(":")
    model_name, _, node = rest.partition(":")
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise UserError(f"image_size must be a positive integer or None, got {image_size!r}")
    model, described = torchvision_network(model_name, weights=weights, seed=seed)
    nodes = get_graph_node_names(model)[1]
    # Default: the input of the last operation (the classification head): pooled features.
    node = node or nodes[-2]
    if node not in nodes:
        raise UserError(f"torchvision {model_name} has no node {node!r}; close names: {_closest(node, nodes)} "
                        "(torchvision.models.feature_extraction.get_graph_node_names lists all)")
    net = create_feature_extractor(model, return_nodes=[node])
    return FrozenEncoder(net, source=f"torchvision:{model_name}:{node}", layer=node, input_shape=None,
                         preprocess=Preprocess(image_size), pool=pool or "avg", weights=described)


#: how each kind of source is loaded: ``loader(source, **options) -> FrozenEncoder``.
ENCODER_LOADERS: Registry[Any] = Registry("encoder source kind")
ENCODER_LOADERS.register("torchvision", _load_torchvision)
ENCODER_LOADERS.register("export", _load_export)
ENCODER_LOADERS.register("checkpoint", _load_checkpoint)


def source_kind(source: str) -> str:
    """Which loader takes ``source``: a ``scheme:`` prefix names it, else the path decides."""
    scheme, sep, _ = source.partition(":")
    if sep and scheme in ENCODER_LOADERS:
        return scheme
    path = Path(source).expanduser()
    if path.is_dir() and (path / "encoder.json").is_file():
        return "export"
    if path.exists():
        return "checkpoint"
    raise CheckpointError(f"encoder source {source!r} is neither an existing checkpoint, run directory or "
                          "export directory nor 'torchvision:<model>[:<node>]'; check the path")


def load_encoder(source: str | os.PathLike | nn.Module, *, weights: str | os.PathLike | None = None,
                 pool: Pool | None = None, image_size: int | None = None, seed: int | None = None) -> FrozenEncoder:
    """A frozen encoder in eval mode mapping (B, C, H, W) float in [0, 1] to (B, D).

    An autoenc model gives ``model.encode``'s codes (net and code head, as exported), flattened
    or pooled to (B, D) by ``pool``; :func:`~autoenc.runs.checkpoints.load_exported_encoder`
    keeps their shape (B, *latent_shape).

    Args:
        source: checkpoint / run directory / export directory path, ``torchvision:<model>[:<node>]``,
            an :class:`~autoenc.models.AutoencoderModule`, or a :class:`FrozenEncoder` (returned as is).
        weights: torchvision only: None (random init, see ``seed``), a weights enum name
            (``IMAGENET1K_V1``, ``DEFAULT``; downloaded into the torch hub cache when not there, see
            :func:`hub_file`) or a local file.
        pool: how a feature map (B, C', H', W') becomes (B, D): ``avg`` (global average, one
            number per channel, D = C') or ``flatten`` (the whole map, D = C' H' W'). None: ``avg``
            for torchvision, ``flatten`` for autoenc codes (a flat code is the same either way).
        image_size: torchvision only: resize images to this square size first (None: keep).
        seed: torchvision with random weights only: the initialisation seed (None: 0), so the
            same call always builds the same encoder (and reuses its cache).

    Raises:
        UserError: unknown torchvision model or node (with close names), a weights file that does
            not match, weights that cannot be downloaded (with where to put the file), a path that
            is not a checkpoint or export.
    """
    if isinstance(source, FrozenEncoder):
        return source
    if isinstance(source, nn.Module):
        if not hasattr(source, "encoder") or not hasattr(source, "latent_dim"):
            raise UserError(f"cannot use a {type(source).__name__} as an encoder; pass an autoenc model, "
                            "a checkpoint path or 'torchvision:<model>'")
        return _wrap_model(source, f"<in-memory {type(source).__name__}>", pool)
    source = str(source)
    kind = source_kind(source)
    return ENCODER_LOADERS.get(kind)(source, weights=weights, pool=pool, image_size=image_size, seed=seed)
