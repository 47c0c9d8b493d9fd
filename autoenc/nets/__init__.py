"""Shape-agnostic encoders and decoders, registered by name: ``mlp``, ``conv``, ``resnet``.

>>> from autoenc.nets import build_encoder, build_decoder
>>> enc = build_encoder("conv", (1, 28, 28), 16, {"widths": [32, 64]})  # (B,1,28,28) -> (B,16)
>>> dec = build_decoder("conv", (1, 28, 28), 16, {"widths": [32, 64]})  # (B,16) -> (B,1,28,28)

Every net computes its sizes from the image shape; convolutional nets halve H and W in
as many stages as keep them integers and >= 4 pixels unless ``downsamples`` is given
(see :mod:`autoenc.nets.conv`). Decoders return logits.
"""

from autoenc.nets.registry import (
    DECODERS,
    ENCODERS,
    accepted_options,
    build_decoder,
    build_encoder,
)

# Importing the net modules registers them.
from autoenc.nets.mlp import MLPDecoder, MLPEncoder  # isort: skip
from autoenc.nets.conv import ConvDecoder, ConvEncoder  # isort: skip
from autoenc.nets.resnet import ResNetDecoder, ResNetEncoder  # isort: skip
from autoenc.nets.base import Decoder, Encoder  # isort: skip
from autoenc.nets.layers import Bottleneck, UpBottleneck  # isort: skip

__all__ = [
    "DECODERS",
    "ENCODERS",
    "Bottleneck",
    "ConvDecoder",
    "ConvEncoder",
    "Decoder",
    "Encoder",
    "MLPDecoder",
    "MLPEncoder",
    "ResNetDecoder",
    "ResNetEncoder",
    "UpBottleneck",
    "accepted_options",
    "build_decoder",
    "build_encoder",
]
