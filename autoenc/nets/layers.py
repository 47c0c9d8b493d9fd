"""Small building blocks the registered nets are assembled from.

Activations and normalizations are chosen by name from registries; convolution blocks
are plain ``nn.Sequential`` stacks and the ResNet bottleneck blocks have a
straight-line ``forward``, so ``channels_last`` and ``torch.compile`` apply unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import Tensor, nn

from autoenc.core.registry import Registry

Activation = Literal["relu", "leaky_relu", "silu", "gelu", "elu", "tanh"]
Norm = Literal["batch", "group", "none"]

#: name -> constructor of an activation module; in place where PyTorch allows it.
ACTIVATIONS: Registry[Callable[[], nn.Module]] = Registry("activation")
ACTIVATIONS.register("relu", lambda: nn.ReLU(inplace=True))
ACTIVATIONS.register("leaky_relu", lambda: nn.LeakyReLU(0.2, inplace=True))
ACTIVATIONS.register("silu", lambda: nn.SiLU(inplace=True))
ACTIVATIONS.register("gelu", nn.GELU)
ACTIVATIONS.register("elu", lambda: nn.ELU(inplace=True))
ACTIVATIONS.register("tanh", nn.Tanh)

#: Groups of GroupNorm: up to 32 (Wu & He 2018, sec. 4), each of at least this many channels.
MIN_CHANNELS_PER_GROUP = 4


def group_count(channels: int) -> int:
    """Number of GroupNorm groups for ``channels``: the largest divisor <= 32 leaving >= 4
    channels per group (1 for fewer than 8 channels)."""
    fits = [g for g in range(1, 33) if channels % g == 0 and channels // g >= MIN_CHANNELS_PER_GROUP]
    return max(fits, default=1)


#: name -> constructor of a 2-D normalization for a given channel count.
NORMS: Registry[Callable[[int], nn.Module]] = Registry("norm")
NORMS.register("batch", nn.BatchNorm2d)
NORMS.register("group", lambda c: nn.GroupNorm(group_count(c), c))
NORMS.register("none", lambda c: nn.Identity())


def make_activation(name: str) -> nn.Module:
    """A new activation module called ``name`` (see :data:`ACTIVATIONS`)."""
    return ACTIVATIONS.get(name)()


def make_norm(name: str, channels: int) -> nn.Module:
    """A new normalization ``name`` over ``channels`` channels (see :data:`NORMS`)."""
    return NORMS.get(name)(channels)


def conv_block(in_channels: int, out_channels: int, stride: int = 1, norm: Norm = "batch",
               activation: Activation = "relu") -> nn.Sequential:
    """3x3 conv (padding 1) -> norm -> activation: (B, in, H, W) -> (B, out, H/s, W/s)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=norm == "none"),
        make_norm(norm, out_channels),
        make_activation(activation),
    )


def up_block(in_channels: int, out_channels: int, norm: Norm = "batch", activation: Activation = "relu") -> nn.Sequential:
    """4x4 stride-2 transposed conv -> norm -> activation: (B, in, H, W) -> (B, out, 2H, 2W).

    A kernel divisible by the stride spreads every input pixel evenly, which avoids the
    checkerboard pattern of 3x3 stride-2 transposed convs (Odena et al. 2016, Distill).
    """
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=norm == "none"),
        make_norm(norm, out_channels),
        make_activation(activation),
    )


class Bottleneck(nn.Module):
    """ResNet bottleneck block (He et al. 2016, fig. 5): 1x1 conv squeezing to ``width``
    channels, 3x3 conv (carrying the stride), 1x1 conv expanding to ``4 * width``, each
    followed by a norm; added to the shortcut, then the activation.

    The shortcut is the identity when the shape is unchanged (stride 1 and
    ``in_channels == 4 * width``), else a projection (1x1 conv with the stride + norm).

    Shapes: (B, in_channels, H, W) -> (B, 4 * width, H / stride, W / stride).
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, *, stride: int = 1, norm: Norm = "batch",
                 activation: Activation = "relu") -> None:
        super().__init__()
        out_channels = width * self.expansion
        bias = norm == "none"
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=bias)
        self.norm1 = make_norm(norm, width)
        self.act1 = make_activation(activation)
        self.conv2 = self._middle_conv(width, stride, bias)
        self.norm2 = make_norm(norm, width)
        self.act2 = make_activation(activation)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=bias)
        self.norm3 = make_norm(norm, out_channels)
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                self._projection(in_channels, out_channels, stride, bias),
                make_norm(norm, out_channels),
            )
        self.act3 = make_activation(activation)

    @staticmethod
    def _middle_conv(width: int, stride: int, bias: bool) -> nn.Module:
        return nn.Conv2d(width, width, 3, stride, 1, bias=bias)

    @staticmethod
    def _projection(in_channels: int, out_channels: int, stride: int, bias: bool) -> nn.Module:
        return nn.Conv2d(in_channels, out_channels, 1, stride, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, in_channels, H, W) -> (B, 4 * width, H', W')."""
        out = self.act1(self.norm1(self.conv1(x)))
        out = self.act2(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        return self.act3(out + self.shortcut(x))


class UpBottleneck(Bottleneck):
    """The decoder's mirror of :class:`Bottleneck`: ``stride`` 2 doubles H and W.

    With stride 2 the 3x3 conv becomes a 4x4 stride-2 transposed conv and the projection
    shortcut a 2x2 stride-2 transposed conv (each input pixel -> one 2x2 patch: the
    adjoint of a strided 1x1 conv at the same cost). With stride 1 it is a
    :class:`Bottleneck`.

    Shapes: (B, in_channels, H, W) -> (B, 4 * width, H * stride, W * stride).
    """

    @staticmethod
    def _middle_conv(width: int, stride: int, bias: bool) -> nn.Module:
        if stride == 1:
            return nn.Conv2d(width, width, 3, 1, 1, bias=bias)
        return nn.ConvTranspose2d(width, width, 4, stride, 1, bias=bias)

    @staticmethod
    def _projection(in_channels: int, out_channels: int, stride: int, bias: bool) -> nn.Module:
        if stride == 1:
            return nn.Conv2d(in_channels, out_channels, 1, bias=bias)
        return nn.ConvTranspose2d(in_channels, out_channels, stride, stride, bias=bias)


def init_weights(module: nn.Module) -> None:
    """He-normal init (fan out) for convolutions, unit scale / zero shift for norms,
    as in torchvision's ResNet; other layers keep PyTorch's defaults."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
