"""Look inside and measure the bottleneck: pure functions of (model, tensors) returning data.

Names are imported lazily (PEP 562) so that importing one submodule, e.g.
``autoenc.analysis.intrinsic_dim``, does not import all the others.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "encode_all": "latents", "latent_stats": "latents", "active_units": "latents", "LatentStats": "latents",
    "reconstruct": "reconstruct", "Reconstructions": "reconstruct",
    "traverse": "traverse", "traverse_code": "traverse", "Traversal": "traverse",
    "sample": "generate", "interpolate": "generate", "Samples": "generate", "Interpolation": "generate",
    "latent_map": "latent_map", "LatentMap": "latent_map",
    "write_report": "look",
    "estimate_all": "intrinsic_dim", "IDResult": "intrinsic_dim",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        from autoenc import _submodule

        return _submodule(__name__, name)  # autoenc.analysis.disentanglement ... after `import autoenc`
    return getattr(importlib.import_module(f"autoenc.analysis.{_EXPORTS[name]}"), name)
