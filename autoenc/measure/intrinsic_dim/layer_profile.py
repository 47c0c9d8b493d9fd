"""Intrinsic dimension layer by layer: the TwoNN profile of a network's representations.

Ansuini, Laio, Macke & Zoccolan (NeurIPS 2019), "Intrinsic dimension of data representations
in deep neural networks": in trained CNNs the ID of the representations first rises, then
falls towards the output; untrained networks show no such profile. :func:`id_by_layer` measures
the TwoNN ID (with its subsample spread) of every named layer's output, flattened to one vector
per image, for

* an autoenc model: ``input``, each encoder stage
  (``encoder.<child>``, but the last, which ``code`` stands for), ``code`` (``model.encode``),
  each decoder stage (``decoder.<child>``) and ``recon`` (``model.decode``), taken with forward
  hooks; any ``encoder.<module>`` / ``decoder.<module>`` name can be asked for;
* any other ``nn.Module`` (a torchvision model with its ImageNet preprocessing in front):
  the node names of ``torchvision.models.feature_extraction`` (``get_graph_node_names``) or
  module names (``layer1``); ``all`` is the input and every top-level child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from autoenc.core.errors import UserError
from autoenc.measure.intrinsic_dim.estimate import estimate_all
from autoenc.measure.intrinsic_dim.estimators import TwoNN
from autoenc.measure.intrinsic_dim.result import IDResult

INPUT, CODE, RECON = "input", "code", "recon"
#: Children whose output is only a reshape of their input: not a stage of their own.
_RESHAPES = (nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout)


@dataclass(frozen=True)
class LayerID:
    """The intrinsic dimension of one layer's representation.

    Attributes:
        layer: the layer's name (``code``, ``encoder.fc1``, ``layer3``, ...).
        shape: one image's output shape at that layer, e.g. (64, 8, 8).
        width: the number of values per image, prod(shape) (the embedding dimension).
        id: the TwoNN estimate on the flattened outputs, with its spread.
    """

    layer: str
    shape: tuple[int, ...]
    width: int
    id: IDResult

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "shape": list(self.shape), "width": self.width, "id": self.id.to_dict()}


def _is_autoenc(model: Any) -> bool:
    return all(hasattr(model, a) for a in ("encode", "decode", "encoder", "decoder", "latent_dim"))


def _named(module: nn.Module, prefix: str) -> dict[str, nn.Module]:
    return {f"{prefix}.{n}": m for n, m in module.named_modules() if n}


class _Hooked:
    """An autoenc model's layers by forward hooks: input, encoder stages, code, decoder stages, recon."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.modules = {**_named(model.encoder, "encoder"), **_named(model.decoder, "decoder")}

    def all(self) -> list[str]:
        # The encoder's last stage is left out: encode() turns its output into the code itself
        # (the same values for a plain autoencoder, the posterior's parameters for a VAE).
        enc = [f"encoder.{n}" for n, m in self.model.encoder.named_children() if not isinstance(m, _RESHAPES)][:-1]
        dec = [f"decoder.{n}" for n, m in self.model.decoder.named_children() if not isinstance(m, _RESHAPES)]
        return [INPUT, *enc, CODE, *dec, RECON]

    def valid(self) -> list[str]:
        return [INPUT, CODE, RECON, *self.modules]

    def __call__(self, x: torch.Tensor, names: Sequence[str]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}

        def keep(name: str) -> Any:
            # clone: an in-place activation after this module would change what was kept
            return lambda module, args, output: out.__setitem__(name, output.detach().clone())

        handles = [self.modules[n].register_forward_hook(keep(n)) for n in names if n in self.modules]
        try:
            z = self.model.encode(x)
            recon = self.model.decode(z)
        finally:
            for h in handles:
                h.remove()
        out.update({INPUT: x, CODE: z, RECON: recon})
        return {n: out[n] for n in names}


class _Traced:
    """Any ``nn.Module`` by ``torchvision.models.feature_extraction`` (node or module names)."""

    def __init__(self, model: nn.Module, preprocess: nn.Module | None = None) -> None:
        from torchvision.models.feature_extraction import get_graph_node_names

        self.model = model.eval()
        self.preprocess = preprocess
        try:
            self.nodes = get_graph_node_names(model)[1]
        except Exception as err:  # noqa: BLE001 - torch.fx cannot trace every model
            raise UserError(f"cannot trace {type(model).__name__} with torch.fx ({str(err).splitlines()[0][:100]}); "
                            "give an autoenc model or a traceable network") from None
        self.input = self.nodes[0]

    def all(self) -> list[str]:
        return [INPUT, *(n for n, m in self.model.named_children() if not isinstance(m, _RESHAPES))]

    def valid(self) -> list[str]:
        modules = [n for n, _ in self.model.named_modules() if n and n not in self.nodes]
        return [INPUT, *self.nodes[1:], *modules]

    def __call__(self, x: torch.Tensor, names: Sequence[str]) -> dict[str, torch.Tensor]:
        from torchvision.models.feature_extraction import create_feature_extractor

        nodes = {self.input if n == INPUT else n: n for n in names}
        extractor = create_feature_extractor(self.model, return_nodes=list(nodes))
        if self.preprocess is not None:
            x = self.preprocess(x)
        outputs = extractor(x)
        return {nodes[k]: v for k, v in outputs.items()}


def network_of(model: nn.Module, preprocess: nn.Module | None = None) -> _Hooked | _Traced:
    """What :func:`id_by_layer` measures: an autoenc model through hooks, any other module
    through torch.fx (with ``preprocess`` in front, e.g. a torchvision model's ImageNet
    normalisation)."""
    if _is_autoenc(model):
        return _Hooked(model)
    if isinstance(model, nn.Module):
        return _Traced(model, preprocess)
    raise UserError(f"id_by_layer takes an autoenc model or an nn.Module, got {type(model).__name__}; "
                    "autoenc.id_by_layer also opens run paths and 'torchvision:<model>'")


def resolve_layers(layers: str | Sequence[str], all_layers: list[str], valid: list[str]) -> list[str]:
    """``"all"``, ``"a,b"`` or a list -> layer names, in the order given.

    Raises:
        UserError: a name the network does not have (one line listing the valid names).
    """
    if isinstance(layers, str):
        layers = all_layers if layers.strip() == "all" else [n.strip() for n in layers.split(",") if n.strip()]
    names = list(layers)
    if not names:
        raise UserError("no layers given; pass 'all' or layer names separated by commas")
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UserError(f"no layer named {', '.join(map(repr, unknown))}; valid names: {', '.join(valid)}")
    return names


def id_by_layer(model: nn.Module, images: torch.Tensor | np.ndarray, layers: str | Sequence[str] = "all", *,
                preprocess: nn.Module | None = None, max_points: int | None = 1000, repeats: int = 5,
                fraction: float = 0.5, seed: int = 0, batch_size: int = 256,
                device: str | torch.device | None = None) -> list[LayerID]:
    """The TwoNN intrinsic dimension of each layer's representation of ``images``.

    Args:
        model: an autoenc model, or an ``nn.Module`` traceable by torch.fx (run paths and
            ``torchvision:<model>`` are opened by :func:`autoenc.workflows.layer_ids.id_by_layer`).
        images: (N, C, H, W) uint8, or float in [0, 1]; what the network takes.
        layers: ``"all"`` (see the module docstring), or names (a list or ``"a,b"``).
        preprocess: applied to the images before a non-autoenc module (e.g. ImageNet's).
        max_points: measure a seeded random subset of this many images (None: all N).
        repeats, fraction: TwoNN's spread from ``repeats`` subsamples of ``fraction`` of the points
            (see :func:`~autoenc.measure.intrinsic_dim.estimate_all`).
        seed: the subset and the subsamples.
        batch_size: images per forward pass.
        device: for the forward passes and the neighbour search (default: CPU / CUDA as estimate_all).

    Returns:
        One :class:`LayerID` per layer, in order (its width beside its ID).

    Raises:
        UserError: an unknown layer (with the valid names), too few images, a model it cannot read.
    """
    from autoenc.data.transforms import to_float

    network = network_of(model, preprocess)
    names = resolve_layers(layers, network.all(), network.valid())
    x = torch.as_tensor(images)
    if x.ndim != 4:
        raise UserError(f"images must be (N, C, H, W), got shape {tuple(x.shape)}")
    if max_points is not None and max_points < len(x):
        pick = np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))
        x = x[torch.from_numpy(pick)]
    run_on = torch.device(device) if device is not None else torch.device("cpu")
    network.model.to(run_on)
    if isinstance(network, _Traced) and network.preprocess is not None:
        network.preprocess.to(run_on)
    chunks: dict[str, list[np.ndarray]] = {n: [] for n in names}
    shapes: dict[str, tuple[int, ...]] = {}
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            batch = to_float(x[start : start + batch_size].to(run_on))
            for name, value in network(batch, names).items():
                shapes[name] = tuple(int(s) for s in value.shape[1:])
                chunks[name].append(value.flatten(1).float().cpu().numpy())
    results = []
    for name in names:
        points = np.concatenate(chunks[name])
        try:
            estimate = estimate_all(points, [TwoNN()], repeats=repeats, fraction=fraction, seed=seed,
                                    device=device)[0]
        except UserError as err:
            raise UserError(f"layer {name}: {err}") from None
        results.append(LayerID(name, shapes[name], int(np.prod(shapes[name])), estimate))
    return results
