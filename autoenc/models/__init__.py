"""Autoencoder models (a registry): ``ae``, ``dae``, ``vae``, ``capacity_vae``, ``tcvae``, ``topk``, sharing one interface."""

from types import ModuleType

from autoenc.core.lazy import submodule
from autoenc.models.autoencoder import Autoencoder, DenoisingAutoencoder
from autoenc.models.autoencoder_module import MODELS, AutoencoderModule, AutoencoderOutput
from autoenc.models.heads import HEADS, CodeHead
from autoenc.models.likelihoods import LIKELIHOODS
from autoenc.models.noise import NOISES
from autoenc.models.topk import TopKAutoencoder
from autoenc.models.vae import BetaTCVAE, CapacityVAE, VariationalAutoencoder, gaussian_kl

__all__ = [
    "MODELS", "LIKELIHOODS", "NOISES", "AutoencoderModule", "AutoencoderOutput",
    "Autoencoder", "DenoisingAutoencoder", "VariationalAutoencoder", "CapacityVAE", "BetaTCVAE", "gaussian_kl",
    "TopKAutoencoder", "HEADS", "CodeHead",
]


def __getattr__(name: str) -> ModuleType:  # submodules on first use (autoenc.core.lazy)
    return submodule(__name__, name)
