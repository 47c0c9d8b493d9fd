"""Fully connected encoder and decoder: flatten -> hidden layers -> output.

With ``hidden=[]`` the pair is a linear autoencoder (its optimum spans the PCA subspace,
Baldi & Hornik 1989), a useful baseline for bottleneck studies.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from autoenc.nets._checks import check_choice, check_int_list, check_shape, check_size
from autoenc.nets.base import Decoder, Encoder
from autoenc.nets.layers import ACTIVATIONS, Activation, make_activation
from autoenc.nets.registry import DECODERS, ENCODERS


def _dense_stack(sizes: Sequence[int], activation: str) -> list[tuple[str, nn.Module]]:
    """Linear layers between consecutive ``sizes``, an activation after all but the last."""
    layers: list[tuple[str, nn.Module]] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append((f"fc{i + 1}", nn.Linear(n_in, n_out)))
        if i < len(sizes) - 2:
            layers.append((f"act{i + 1}", make_activation(activation)))
    return layers


@ENCODERS.register("mlp")
class MLPEncoder(Encoder):
    """Flatten, then ``hidden`` fully connected layers: (B, C, H, W) -> (B, out_features).

    Args:
        input_shape: (C, H, W); any size.
        out_features: output size.
        hidden: widths of the hidden layers, input side first; ``[]`` for a linear map.
        activation: nonlinearity after each hidden layer.
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        out_features: int,
        *,
        hidden: Sequence[int] = (512, 256),
        activation: Activation = "relu",
    ) -> None:
        shape = check_shape(input_shape, "input_shape")
        out_features = check_size(out_features, "out_features")
        hidden = check_int_list(hidden, "hidden", allow_empty=True)
        check_choice(activation, "activation", ACTIVATIONS.list())
        sizes = (math.prod(shape), *hidden, out_features)
        layers = OrderedDict([("flatten", nn.Flatten()), *_dense_stack(sizes, activation)])
        super().__init__(
            layers,
            name="mlp",
            input_shape=shape,
            out_features=out_features,
            feature_shape=(sizes[-2],),
        )


@DECODERS.register("mlp")
class MLPDecoder(Decoder):
    """Mirror of :class:`MLPEncoder`: (B, latent_dim) -> ``reversed(hidden)`` ->
    (B, C, H, W) logits.

    Args:
        output_shape: (C, H, W); any size.
        latent_dim: size of the codes.
        hidden: the encoder's hidden widths (input side first); used in reverse.
        activation: nonlinearity after each hidden layer.
    """

    def __init__(
        self,
        output_shape: tuple[int, int, int],
        latent_dim: int,
        *,
        hidden: Sequence[int] = (512, 256),
        activation: Activation = "relu",
    ) -> None:
        shape = check_shape(output_shape, "output_shape")
        latent_dim = check_size(latent_dim, "latent_dim")
        hidden = check_int_list(hidden, "hidden", allow_empty=True)
        check_choice(activation, "activation", ACTIVATIONS.list())
        sizes = (latent_dim, *reversed(hidden), math.prod(shape))
        layers = OrderedDict(
            [*_dense_stack(sizes, activation), ("unflatten", nn.Unflatten(1, shape))]
        )
        super().__init__(
            layers,
            name="mlp",
            output_shape=shape,
            latent_dim=latent_dim,
            feature_shape=(sizes[1],),
        )
