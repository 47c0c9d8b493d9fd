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

from autoenc.core.lazy import by_module, lazy_api

#: module -> the public names it defines (each imported on first use)
_EXPORTS = by_module({
    "autoenc.workflows.sweep.evaluate": ("CodeMetrics", "EvalSettings", "evaluate_model", "evaluate_run", "reconstruction_terms"),
    "autoenc.measure.recommend": ("METRICS", "Recommendation", "Rule", "SizeSummary", "recommend", "recommend_summary", "summarize"),
    "autoenc.workflows.sweep.orchestrate": ("ROW_COLUMNS", "SweepResult", "evaluate_sweep", "read_sweep", "run_sweep", "sweep", "write_outputs"),
    "autoenc.workflows.sweep.plan": ("RunSpec", "SweepPlan", "make_plan", "parse_sizes", "read_model_config", "run_state"),
    "autoenc.workflows.sweep.runner": ("TrainOutcome", "train_all"),
})

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_api(__name__, _EXPORTS, globals())
