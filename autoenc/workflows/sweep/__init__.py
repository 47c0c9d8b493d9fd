"""Choose the bottleneck size: train a config at several latent sizes (or one ordered,
nested-dropout model at the largest), measure each size on the validation split, recommend one.

>>> from autoenc.workflows.sweep import make_plan, run_sweep
>>> result = run_sweep(make_plan("configs/digits_vae.yaml", [2, 4, 8, 16, 32], seeds=3))  # doctest: +SKIP
>>> print(result.recommendation.text())  # doctest: +SKIP

Modules: :mod:`.plan` (sizes x seeds, the sweep directory, completion markers),
:mod:`.runner` (training, in-process or J child processes), :mod:`.evaluate` (metrics of a
model at each code size), :mod:`.recommend` (summaries and the rule), :mod:`.api` (the whole
sweep and its files).
"""

from autoenc.measure.recommend import (
    METRICS,
    Recommendation,
    Rule,
    SizeSummary,
    recommend,
    recommend_summary,
    summarize,
)
from autoenc.workflows.sweep.evaluate import (
    CodeMetrics,
    EvalSettings,
    evaluate_model,
    evaluate_run,
    reconstruction_terms,
)
from autoenc.workflows.sweep.orchestrate import (
    ROW_COLUMNS,
    SweepResult,
    evaluate_sweep,
    read_sweep,
    run_sweep,
    write_outputs,
)
from autoenc.workflows.sweep.plan import (
    RunSpec,
    SweepPlan,
    make_plan,
    parse_sizes,
    read_model_config,
    run_state,
)
from autoenc.workflows.sweep.runner import TrainOutcome, train_all

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
