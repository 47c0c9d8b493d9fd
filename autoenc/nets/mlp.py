"""Fully connected encoder and decoder: flatten -> hidden layers -> output.

With ``hidden=[]`` the pair is a linear autoencoder (its optimum spans the PCA subspace,
Baldi & Hornik 1989), a useful baseline for bottleneck studies.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from autoenc.core.constraints import POSITIVE_INT, ListOf, Options, check_params
from autoenc.core.errors import UserError
from autoenc.nets.layers import ACTIVATIONS, Activation, make_activation
from autoenc.nets.options import NETS, NetOptions
from autoenc.nets.shape_checks import check_shape, check_size
from autoenc.nets.stacks import Decoder, Encoder


def _dense_stack(sizes: Sequence[int], activation: str) -> list[tuple[str, nn.Module]]:
    """Linear layers between consecutive ``sizes``, an activation after all but the last."""
    layers: list[tuple[str, nn.Module]] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append((f"fc{i + 1}", nn.Linear(n_in, n_out)))
        if i < len(sizes) - 2:
            layers.append((f"act{i + 1}", make_activation(activation)))
    return layers


class MLPEncoder(Encoder):
    """Flatten, then ``hidden`` fully connected layers: (B, C, H, W) -> (B, out_features).

    Args:
        input_shape: (C, H, W); any size.
        out_features: output size.
        options: :class:`MLPNet`.
    """

    def __init__(self, input_shape: tuple[int, int, int], out_features: int, options: MLPNet) -> None:
        shape = check_shape(input_shape, "input_shape")
        out_features = check_size(out_features, "out_features")
        sizes = (math.prod(shape), *options.hidden, out_features)
        layers = OrderedDict([("flatten", nn.Flatten()), *_dense_stack(sizes, options.activation)])
        super().__init__(layers, name="mlp", input_shape=shape, out_features=out_features,
                         feature_shape=(sizes[-2],))


class MLPDecoder(Decoder):
    """Mirror of :class:`MLPEncoder`: (B, latent_dim) -> ``reversed(hidden)`` ->
    (B, C, H, W) logits.

    Args:
        output_shape: (C, H, W); any size.
        latent_dim: size of the codes.
        options: :class:`MLPNet` (the encoder's hidden widths, used in reverse).
    """

    def __init__(self, output_shape: tuple[int, int, int], latent_dim: int, options: MLPNet) -> None:
        shape = check_shape(output_shape, "output_shape")
        latent_dim = check_size(latent_dim, "latent_dim")
        sizes = (latent_dim, *reversed(options.hidden), math.prod(shape))
        layers = OrderedDict([*_dense_stack(sizes, options.activation), ("unflatten", nn.Unflatten(1, shape))])
        super().__init__(layers, name="mlp", output_shape=shape, latent_dim=latent_dim,
                         feature_shape=(sizes[1],))


@NETS.register("mlp")
class MLPNet(NetOptions):
    """The ``mlp`` net: fully connected layers (:class:`MLPEncoder`, :class:`MLPDecoder`).
    It has no feature maps, so it keeps flat codes only.

    Args:
        hidden: widths of the hidden layers, input side first; ``[]`` for a linear map.
        activation: nonlinearity after each hidden layer.
    """

    name = "mlp"
    PARAMS = {"hidden": [ListOf(POSITIVE_INT)], "activation": [Options(ACTIVATIONS.list())]}

    def __init__(self, hidden: Sequence[int] = (512, 256), activation: Activation = "relu") -> None:
        check_params(self.PARAMS, locals())
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation

    def encoder(self, input_shape: Sequence[int], out_features: int, *, spatial: bool = False) -> MLPEncoder:
        _flat_only(spatial)
        return MLPEncoder(input_shape, out_features, self)  # type: ignore[arg-type]

    def decoder(self, output_shape: Sequence[int], latent_dim: int, *, spatial: bool = False) -> MLPDecoder:
        _flat_only(spatial)
        return MLPDecoder(output_shape, latent_dim, self)  # type: ignore[arg-type]


def _flat_only(spatial: bool) -> None:
    if spatial:
        raise UserError("latent_channels needs a net with feature maps (conv or resnet); the mlp net "
                        "keeps flat codes: drop latent_channels or use ConvNet / ResNetNet")
