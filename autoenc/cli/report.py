"""``autoenc report RUN_DIR``: every picture of the bottleneck and the run's key numbers on one page.

Writes into ``--out`` (default ``RUN_DIR/report``): ``report.md`` (validation loss terms in
nats, latent size, active units for a VAE, parameter count, figures), ``summary.json``,
``training_curve.png`` (from metrics.csv), ``reconstructions.png``, ``traversal.png``,
``traversal.gif``, ``samples.png``, ``interpolation.png`` and ``latent_map.png``.
``autoenc fit --report true`` runs it at the end of training. Generated from :func:`report_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autoenc.cli._generate import Generated
from autoenc.cli.option_checks import FLAG, NAME, OPTIONAL_PATH, PATH, SEED
from autoenc.core.constraints import POSITIVE_INT, Null
from autoenc.core.defaults import DEFAULT_BATCH_SIZE

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule


def report_run(run: str, *, out: Path | None = None, seed: int = 0, tsne: bool = False, color_by: str | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE, data: ImageDataModule | None = None) -> int:
    """Write a one-page report of a trained run (figures + key numbers) computed on its validation split.

    Args:
        run: a run directory (uses its best checkpoint) or a .ckpt file.
        out: output directory (default: <run>/report).
        seed: seed of every random choice, in [0, 2**32).
        tsne: also draw a t-SNE map of the codes (slower).
        color_by: latent map colouring: label, or a factor name for factor data.
        batch_size: images per encoder/decoder call.
        data: data to use instead of the run's own (only the options given override it).
    """
    from autoenc.core.atomic import staged_files
    from autoenc.render.pictures import check_out_dir
    from autoenc.runs.checkpoints import resolve_checkpoint
    from autoenc.runs.run import run_directory
    from autoenc.workflows.views import write_report

    ckpt = resolve_checkpoint(run)
    directory = check_out_dir(out if out is not None else run_directory(ckpt) / "report")
    # The report's files go to a staging directory first: `out` gets all of them or none.
    with staged_files(directory) as stage:
        path = write_report(ckpt, stage, seed, tsne, color_by, data, batch_size)
    print(f"wrote {directory / path.name}")
    return 0


#: ``argv -> exit code`` (``autoenc fit --report true`` calls it with the run directory).
report = Generated(report_run, "autoenc report", positional=("run",), run="run", data="optional",
                   params={"run": [PATH], "out": OPTIONAL_PATH, "seed": [SEED], "tsne": [FLAG],
                           "color_by": [NAME, Null()], "batch_size": [POSITIVE_INT]})
