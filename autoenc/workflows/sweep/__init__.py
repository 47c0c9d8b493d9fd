"""Choose the bottleneck size: train a config at several latent sizes (or one ordered,
nested-dropout model at the largest), measure each size on the validation split, recommend one.

>>> from autoenc.workflows.sweep import make_plan, run_sweep
>>> result = run_sweep(make_plan("configs/digits_vae.yaml", [2, 4, 8, 16, 32], seeds=3))  # doctest: +SKIP
>>> print(result.recommendation.text())  # doctest: +SKIP

Modules: :mod:`.plan` (sizes x seeds, the sweep directory, completion markers),
:mod:`.runner` (training, in-process or J child processes), :mod:`.evaluate` (metrics of a
model at each code size), :mod:`.recommend` (summaries and the rule), :mod:`.orchestrate` (the whole
sweep and its files), :mod:`.sweep_options` (the constraints of its options).
"""

from __future__ import annotations

from typing import Any

from autoenc.core.lazy import exported

#: public name -> module that defines it (imported on first use: ``sweep_options`` stays torch-free)
_EXPORTS = {
    "CodeMetrics": "autoenc.workflows.sweep.evaluate",
    "EvalSettings": "autoenc.workflows.sweep.evaluate",
    "METRICS": "autoenc.measure.recommend",
    "ROW_COLUMNS": "autoenc.workflows.sweep.orchestrate",
    "Recommendation": "autoenc.measure.recommend",
    "Rule": "autoenc.measure.recommend",
    "RunSpec": "autoenc.workflows.sweep.plan",
    "SizeSummary": "autoenc.measure.recommend",
    "SweepPlan": "autoenc.workflows.sweep.plan",
    "SweepResult": "autoenc.workflows.sweep.orchestrate",
    "TrainOutcome": "autoenc.workflows.sweep.runner",
    "evaluate_model": "autoenc.workflows.sweep.evaluate",
    "evaluate_run": "autoenc.workflows.sweep.evaluate",
    "evaluate_sweep": "autoenc.workflows.sweep.orchestrate",
    "make_plan": "autoenc.workflows.sweep.plan",
    "parse_sizes": "autoenc.workflows.sweep.plan",
    "read_model_config": "autoenc.workflows.sweep.plan",
    "read_sweep": "autoenc.workflows.sweep.orchestrate",
    "recommend": "autoenc.measure.recommend",
    "recommend_summary": "autoenc.measure.recommend",
    "reconstruction_terms": "autoenc.workflows.sweep.evaluate",
    "run_state": "autoenc.workflows.sweep.plan",
    "run_sweep": "autoenc.workflows.sweep.orchestrate",
    "summarize": "autoenc.measure.recommend",
    "sweep": "autoenc.workflows.sweep.orchestrate",
    "train_all": "autoenc.workflows.sweep.runner",
    "write_outputs": "autoenc.workflows.sweep.orchestrate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    value = globals()[name] = exported(__name__, _EXPORTS, name)
    return value
