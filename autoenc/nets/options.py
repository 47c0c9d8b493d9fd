"""Typed net options: one class per net kind, the config of both its encoder and decoder.

A model takes one of these as ``net`` (e.g. ``ConvNet(widths=[32, 64])``); in YAML::

    net:
      class_path: autoenc.nets.ConvNet
      init_args: {widths: [32, 64]}

jsonargparse checks the option names and types and ``--help`` lists them; each class checks
its values against the constraints it declares in ``PARAMS`` (one wording, see
:mod:`autoenc.core.constraints`). The encoder and decoder of a net are mirrors built from the
same options (:meth:`NetOptions.encoder`, :meth:`NetOptions.decoder`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from autoenc.core.constraints import (
    POSITIVE_INT,
    Constraint,
    Interval,
    ListOf,
    Null,
    Options,
    check_param,
    check_params,
)
from autoenc.core.errors import UserError
from autoenc.core.registry import Registry
from autoenc.nets.layers import ACTIVATIONS, NORMS, Activation, Norm

if TYPE_CHECKING:
    from autoenc.nets.stacks import Decoder, Encoder

#: name -> net options class ("mlp", "conv", "resnet").
NETS: Registry[type[NetOptions]] = Registry("net")

#: Where checkpoints and configs name the option classes (``class_path``).
PUBLIC_MODULE = "autoenc.nets"

_ACTIVATION = [Options(ACTIVATIONS.list())]
_WIDTHS = [ListOf(POSITIVE_INT, non_empty=True)]


class NetOptions(ABC):
    """Options of one net kind; subclasses declare typed ``__init__`` arguments and ``PARAMS``.

    Class attributes:
        name: the registry name ("conv").
        spatial: the net has feature maps, so a model may keep a spatial code
            (``latent_channels``); False for the MLP.
        PARAMS: the constraints of every ``__init__`` argument.
    """

    name: ClassVar[str] = ""
    spatial: ClassVar[bool] = False
    PARAMS: ClassVar[dict[str, list[Constraint]]] = {}

    def options(self) -> dict[str, Any]:
        """The options as plain data (lists, not tuples): ``{"widths": [32, 64], ...}``."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}

    def config(self) -> dict[str, Any]:
        """``{"class_path": "autoenc.nets.ConvNet", "init_args": {...}}``: how checkpoints and
        YAML configs store the options (plain data; :func:`net_from_config` reads it back)."""
        return {"class_path": f"{PUBLIC_MODULE}.{type(self).__name__}", "init_args": self.options()}

    @abstractmethod
    def encoder(self, input_shape: Sequence[int], out_features: int, *, spatial: bool = False) -> Encoder:
        """The encoder: (B, C, H, W) -> (B, out_features), or with ``spatial`` (B,
        out_features, h, w) maps at the last stage's resolution (a 1x1 conv)."""

    @abstractmethod
    def decoder(self, output_shape: Sequence[int], latent_dim: int, *, spatial: bool = False) -> Decoder:
        """The mirror decoder: (B, latent_dim) or with ``spatial`` (B, latent_dim, h, w)
        -> (B, C, H, W) logits."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({args})"


def _ints(value: int | Sequence[int]) -> int | tuple[int, ...]:
    return int(value) if isinstance(value, int) else tuple(int(v) for v in value)


class StagedNetOptions(NetOptions):
    """Options shared by the staged convolutional nets (``conv``, ``resnet``).

    Args:
        widths: channels of each stage (the ResNet's inner width); one stage per entry.
        blocks_per_stage: blocks per stage (one int for all stages or one per stage); see the
            net for what it counts.
        downsamples: how many leading stages halve H and W; None halves as often as H and W
            stay integers and >= 4 pixels. Sets the h x w of a spatial code.
        norm: "batch", "group" or "none" after each conv.
        activation: nonlinearity after each norm.
    """

    spatial = True
    #: The fewest blocks a stage may have (what ``blocks_per_stage`` counts).
    min_blocks: ClassVar[int] = 0

    def __init__(self, widths: Sequence[int], blocks_per_stage: int | Sequence[int], downsamples: int | None,
                 norm: Norm, activation: Activation) -> None:
        check_params({k: self.PARAMS[k] for k in ("widths", "norm", "activation")}, locals())
        n = len(widths)
        each = Interval(int, self.min_blocks, None, closed="left")
        check_param("blocks_per_stage", [each, ListOf(each, length=n, note="one per entry of widths")],
                    blocks_per_stage)
        check_param("downsamples", [Null(note="automatic"),
                                    Interval(int, 0, n, note="at most one per entry of widths")], downsamples)
        self.widths = tuple(int(w) for w in widths)
        self.blocks_per_stage = _ints(blocks_per_stage)
        self.downsamples = downsamples
        self.norm = norm
        self.activation = activation

    @property
    def blocks(self) -> tuple[int, ...]:
        """Blocks of each stage, one int per entry of ``widths``."""
        b = self.blocks_per_stage
        return (b,) * len(self.widths) if isinstance(b, int) else b


def staged_params(min_blocks: int) -> dict[str, list[Constraint]]:
    """The declared constraints of a staged net's options (``blocks_per_stage`` >= ``min_blocks``;
    its length and ``downsamples``' upper bound follow ``widths`` and are checked with it)."""
    each = Interval(int, min_blocks, None, closed="left")
    return {
        "widths": _WIDTHS,
        "blocks_per_stage": [each, ListOf(each, note="one per entry of widths")],
        "downsamples": [Null(note="automatic"), Interval(int, 0, None, closed="left")],
        "norm": [Options(NORMS.list())],
        "activation": _ACTIVATION,
    }


def net_from_config(value: NetOptions | Mapping[str, Any] | None) -> NetOptions:
    """Net options from what a model was given: an instance, None (``ConvNet()``), or the
    plain form of :meth:`NetOptions.config` that checkpoints store.

    Raises:
        UserError: a mapping that names no known net class, or bad options.
    """
    if value is None:
        return NETS.get("conv")()
    if isinstance(value, NetOptions):
        return value
    by_class = {NETS.get(n).__name__: NETS.get(n) for n in NETS.list()}
    check_param("net", [_NET_CONFIG], value)
    cls_name = str(value["class_path"]).rsplit(".", 1)[-1]
    if cls_name not in by_class:
        raise UserError(f"net class_path {value['class_path']!r} is not a net; known: {', '.join(sorted(by_class))}")
    args = dict(value.get("init_args") or {})
    return by_class[cls_name](**args)


class _NetConfig(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, Mapping) and "class_path" in value

    def describe(self) -> str:
        return "net options (e.g. ConvNet(widths=[32, 64])) or a mapping with class_path and init_args"


_NET_CONFIG = _NetConfig()


def legacy_net(encoder: str = "conv", decoder: str | None = None,
               net_options: Mapping[str, Any] | None = None) -> NetOptions:
    """The net options of a checkpoint written before typed options (``encoder: conv``,
    ``net_options: {widths: [32, 64]}``); a decoder net other than the encoder's is refused."""
    if decoder is not None and decoder != encoder:
        raise UserError(f"encoder {encoder!r} with decoder {decoder!r}: nets of two kinds are no longer "
                        "supported; the decoder mirrors the encoder's net")
    return NETS.get(encoder)(**dict(net_options or {}))
