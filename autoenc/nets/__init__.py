"""Shape-agnostic encoders and decoders with typed options: ``MLPNet``, ``ConvNet``, ``ResNetNet``.

>>> from autoenc.nets import ConvNet
>>> net = ConvNet(widths=[32, 64])
>>> enc = net.encoder((1, 28, 28), 16)  # (B,1,28,28) -> (B,16)
>>> dec = net.decoder((1, 28, 28), 16)  # (B,16) -> (B,1,28,28) logits
>>> net.encoder((1, 28, 28), 4, spatial=True).code_shape  # a spatial code: 4 maps of 7x7
(4, 7, 7)

Every net computes its sizes from the image shape; convolutional nets halve H and W in
as many stages as keep them integers and >= 4 pixels unless ``downsamples`` is given
(see :mod:`autoenc.nets.conv`). Decoders return logits.
"""

from types import ModuleType

from autoenc.core.lazy import submodule
from autoenc.nets.factory import build_decoder, build_encoder, net_options
from autoenc.nets.options import NETS, NetOptions, net_from_config

# Importing the net modules registers them.
from autoenc.nets.mlp import MLPDecoder, MLPEncoder, MLPNet  # isort: skip
from autoenc.nets.conv import ConvDecoder, ConvEncoder, ConvNet  # isort: skip
from autoenc.nets.resnet import ResNetDecoder, ResNetEncoder, ResNetNet  # isort: skip
from autoenc.nets.stacks import Decoder, Encoder  # isort: skip
from autoenc.nets.layers import Bottleneck, UpBottleneck  # isort: skip

__all__ = [
    "NETS",
    "Bottleneck",
    "ConvDecoder",
    "ConvEncoder",
    "ConvNet",
    "Decoder",
    "Encoder",
    "MLPDecoder",
    "MLPEncoder",
    "MLPNet",
    "NetOptions",
    "ResNetDecoder",
    "ResNetEncoder",
    "ResNetNet",
    "UpBottleneck",
    "build_decoder",
    "build_encoder",
    "net_from_config",
    "net_options",
]


def __getattr__(name: str) -> ModuleType:  # submodules on first use (autoenc.core.lazy)
    return submodule(__name__, name)
