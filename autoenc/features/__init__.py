"""Reuse encoders: frozen feature extractors, an on-disk feature cache, probes, and a
scikit-learn transformer.

    enc = load_encoder("runs/digits_ae")            # or "torchvision:resnet18", an export dir
    cache = extract_features(enc, dm, "cache/val", split="val")
    probe(cache, "linear").accuracy
"""

from autoenc.features.cache import FeatureCache, fingerprint_differences, open_cache
from autoenc.features.encoders import ENCODER_LOADERS, FrozenEncoder, load_encoder
from autoenc.features.extract import extract_features
from autoenc.features.probes import PROBES, ProbeResult, probe
from autoenc.features.transformer import AutoencoderFeatures

__all__ = [
    "load_encoder", "FrozenEncoder", "ENCODER_LOADERS",
    "extract_features", "FeatureCache", "open_cache", "fingerprint_differences",
    "probe", "ProbeResult", "PROBES",
    "AutoencoderFeatures",
]
