"""Plain and denoising autoencoders."""

from __future__ import annotations

from typing import Any, Literal

import torch

from autoenc.core.constraints import Constraint, InstanceOf, Interval, check_param
from autoenc.models.autoencoder_module import AutoencoderModule, AutoencoderOutput, register_model
from autoenc.models.noise import NOISE_LEVEL_RANGE, NOISES


@register_model
class Autoencoder(AutoencoderModule):
    """Deterministic autoencoder; loss = reconstruction NLL (nats per image)."""

    model_name = "ae"


@register_model
class DenoisingAutoencoder(AutoencoderModule):
    """Autoencoder trained to reconstruct the clean image from a corrupted input
    (Vincent et al. 2008). Corruption is applied to the encoder's input during training
    only; the loss is against the clean image; validation measures clean reconstruction.

    Args:
        noise: ``gaussian`` (level = sigma), ``masking`` or ``salt_and_pepper`` (level = p).
        noise_level: strength, see ``noise``.
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "dae"
    is_denoising = True
    #: ``noise_level``'s range depends on the noise (NOISE_LEVEL_RANGE), checked with it.
    parameter_constraints: dict[str, list[Constraint]] = {
        "noise": [InstanceOf(str, "a registered noise name")],
        "noise_level": [Interval(float, 0, None, closed="left", note="its range depends on the noise")],
    }

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 16,
                 noise: Literal["gaussian", "masking", "salt_and_pepper"] = "gaussian",
                 noise_level: float = 0.2, **kwargs: Any) -> None:
        NOISES.get(noise)
        low, high = NOISE_LEVEL_RANGE[noise]
        check_param(f"noise_level for {noise} noise", [Interval(float, low, high)], noise_level)
        super().__init__(input_shape, latent_dim, **kwargs)
        self.corrupt = NOISES.get(noise)

    def training_output(self, x: torch.Tensor) -> AutoencoderOutput:
        noisy = self.corrupt(x, self.hparams.noise_level)
        return self._output(x, self.truncate_code(self.encode(noisy)))
