"""Reuse encoders: frozen feature extractors, an on-disk feature cache, probes, retrained
last layers, and a scikit-learn transformer.

    enc = load_encoder("runs/digits_ae")            # or "torchvision:resnet18", an export dir
    cache = extract_features(enc, dm, "cache/val", split="val")
    probe(cache, "linear").accuracy

The names below are imported on first use, so importing a torch-free module of this package
(``retrain_options``, for the CLI's checks) does not import torch.
"""

from __future__ import annotations

from typing import Any

from autoenc.core.lazy import exported

#: public name -> module that defines it
_EXPORTS = {
    "FeatureCache": "autoenc.features.cache",
    "fingerprint_differences": "autoenc.features.cache",
    "open_cache": "autoenc.features.cache",
    "ENCODER_LOADERS": "autoenc.features.encoders",
    "FrozenEncoder": "autoenc.features.encoders",
    "load_encoder": "autoenc.features.encoders",
    "extract_features": "autoenc.features.extract",
    "PROBES": "autoenc.features.probes",
    "ProbeResult": "autoenc.features.probes",
    "probe": "autoenc.features.probes",
    "AutoencoderFeatures": "autoenc.features.transformer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    value = globals()[name] = exported(__name__, _EXPORTS, name)
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
