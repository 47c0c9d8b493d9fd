"""autoenc: learn and study bottleneck representations of images.

The public API is imported lazily (``import autoenc`` stays fast; torch loads on first use),
and so are the subpackages (``autoenc.features.AutoencoderFeatures``,
``autoenc.measure.disentanglement.mig`` work after a plain ``import autoenc``):

- train and open runs: :func:`fit`, :func:`load` (a :class:`Run`), :func:`load_model`,
  :func:`export_encoder`;
- look: :func:`reconstruct`, :func:`traverse`, :func:`sample`, :func:`interpolate`,
  :func:`latent_map`, :func:`report`;
- measure: :func:`estimate_id`, :func:`id_by_layer` (one estimate per layer), :func:`sweep`
  (train several bottleneck sizes, recommend one);
- reuse: :func:`extract_features`, :func:`open_cache`, :func:`probe`, :func:`label_efficiency`,
  :func:`retrain` (a new last layer) and :func:`load_classifier` (``predict`` on images),
  :class:`AutoencoderFeatures` (a scikit-learn transformer), :func:`load_encoder`.
"""

from __future__ import annotations

from autoenc.core.lazy import lazy_api

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "fit": "autoenc.training.fit",
    "load": "autoenc.workflows.python_api",
    "Run": "autoenc.runs.run",
    "load_model": "autoenc.runs.checkpoints",
    "export_encoder": "autoenc.runs.checkpoints",
    "reconstruct": "autoenc.workflows.python_api",
    "traverse": "autoenc.workflows.python_api",
    "sample": "autoenc.workflows.python_api",
    "interpolate": "autoenc.workflows.python_api",
    "latent_map": "autoenc.workflows.python_api",
    "report": "autoenc.workflows.views:write_report",
    "estimate_id": "autoenc.measure.intrinsic_dim:estimate_all",
    "extract_features": "autoenc.features",
    "open_cache": "autoenc.features",
    "probe": "autoenc.features",
    "load_encoder": "autoenc.features",
    "retrain": "autoenc.features.retrain",
    "load_classifier": "autoenc.features.classifier",
    "label_efficiency": "autoenc.features.label_efficiency",
    "id_by_layer": "autoenc.workflows.layer_ids",
    "sweep": "autoenc.workflows.sweep",
    "AutoencoderFeatures": "autoenc.features",
    "UserError": "autoenc.core.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_api(__name__, _EXPORTS, globals())
