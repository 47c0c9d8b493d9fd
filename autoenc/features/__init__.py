"""Reuse encoders: frozen feature extractors, an on-disk feature cache, probes, retrained
last layers, and a scikit-learn transformer.

    enc = load_encoder("runs/digits_ae")            # or "torchvision:resnet18", an export dir
    cache = extract_features(enc, dm, "cache/val", split="val")
    probe(cache, "linear").accuracy

The names below are imported on first use, so importing a torch-free module of this package
(``retrain_options``, for the CLI's checks) does not import torch.
"""

from __future__ import annotations

from autoenc.core.lazy import by_module, lazy_api

#: module -> the public names it defines (each imported on first use)
_EXPORTS = by_module({
    "autoenc.features.cache": ("FeatureCache", "fingerprint_differences", "open_cache"),
    "autoenc.features.encoders": ("ENCODER_LOADERS", "FrozenEncoder", "load_encoder"),
    "autoenc.features.extract": ("extract_features",),
    "autoenc.features.probes": ("PROBES", "ProbeResult", "probe"),
    "autoenc.features.transformer": ("AutoencoderFeatures",),
})

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_api(__name__, _EXPORTS, globals())
