"""A CSV logger that continues a run's ``metrics.csv`` when training resumes.

Lightning's CSVLogger deletes an existing ``metrics.csv`` when it opens a version directory,
so ``autoenc fit --ckpt_path last`` would lose every row logged before the checkpoint.
:class:`ResumedCSVLogger` keeps the rows logged before the resumed step and appends to them;
rows a crashed run logged after its last checkpoint are dropped (training repeats those
steps).
"""

from __future__ import annotations

import csv
import os
from typing import Any

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

from autoenc.core.atomic import atomic_file


def _step(row: dict[str, Any]) -> float:
    try:
        return float(row.get("step") or "nan")
    except ValueError:
        return float("nan")


class _ContinuingWriter(ExperimentWriter):
    """ExperimentWriter that keeps ``metrics.csv`` rows with ``step < keep_below_step``."""

    def __init__(self, log_dir: str, keep_below_step: int) -> None:
        self._keep_below_step = keep_below_step
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:  # Lightning's version deletes metrics.csv
        path = self.metrics_file_path
        if not os.path.isfile(path):
            return
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = sorted(reader.fieldnames or [])
            rows = [r for r in reader if _step(r) < self._keep_below_step]
        with atomic_file(path, "w") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        # Lightning appends with the sorted union of keys as the header; start from the file's.
        self.metrics_keys = header


class ResumedCSVLogger(CSVLogger):
    """:class:`~lightning.pytorch.loggers.CSVLogger` for a resumed version directory.

    Args:
        keep_below_step: the resumed checkpoint's global step; earlier rows are kept.
        (other arguments: CSVLogger's)
    """

    def __init__(self, *args: Any, keep_below_step: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_below_step = int(keep_below_step)

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(self.log_dir, self._keep_below_step)
        return self._experiment
