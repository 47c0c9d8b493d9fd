"""Choose the bottleneck size: train a config at several latent sizes (or one ordered,
nested-dropout model at the largest), measure each size on the validation split, recommend one.

>>> from autoenc.analysis.sweep import make_plan, run_sweep
>>> result = run_sweep(make_plan("configs/digits_vae.yaml", [2, 4, 8, 16, 32], seeds=3))  # doctest: +SKIP
>>> print(result.recommendation.text())  # doctest: +SKIP

Modules: :mod:`.plan` (sizes x seeds, the sweep directory, completion markers),
:mod:`.runner` (training, in-process or J child processes), :mod:`.evaluate` (metrics of a
model at each code size), :mod:`.recommend` (summaries and the rule), :mod:`.api` (the whole
sweep and its files).
"""

from .api import ROW_COLUMNS, SweepResult, evaluate_sweep, read_sweep, run_sweep, write_outputs
from .evaluate import (
    METRICS,
    CodeMetrics,
    EvalSettings,
    evaluate_model,
    evaluate_run,
    reconstruction_terms,
)
from .plan import RunSpec, SweepPlan, make_plan, parse_sizes, read_model_config, run_state
from .recommend import Recommendation, Rule, SizeSummary, recommend, recommend_summary, summarize
from .runner import TrainOutcome, train_all

__all__ = [
    "METRICS",
    "ROW_COLUMNS",
    "CodeMetrics",
    "EvalSettings",
    "Recommendation",
    "Rule",
    "RunSpec",
    "SizeSummary",
    "SweepPlan",
    "SweepResult",
    "TrainOutcome",
    "evaluate_model",
    "evaluate_run",
    "evaluate_sweep",
    "make_plan",
    "parse_sizes",
    "read_model_config",
    "read_sweep",
    "recommend",
    "recommend_summary",
    "reconstruction_terms",
    "run_state",
    "run_sweep",
    "summarize",
    "train_all",
    "write_outputs",
]
