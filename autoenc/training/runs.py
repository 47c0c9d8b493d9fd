"""Open a trained run: the model and the data module it was trained on, from the checkpoint alone.

The run layer is :mod:`autoenc.runs`; these names stay importable from here.
"""

from __future__ import annotations

import os
from typing import Any

from autoenc.runs import Run, check_input_shape, datamodule_from_checkpoint

__all__ = ["check_input_shape", "datamodule_from_checkpoint", "load_run"]


def load_run(path: str | os.PathLike, **data_overrides: Any) -> tuple[Any, Any, str]:
    """(model in eval mode, its data module, the checkpoint path) for a checkpoint or run dir."""
    run = Run.open(path, **data_overrides)
    return run.model, run.datamodule, str(run.checkpoint)
