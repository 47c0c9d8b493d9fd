"""``autoenc predict``: classify image files with a classifier directory (generated from
:func:`predict_images`).

    autoenc predict classifiers/digits photo.png folder/ --top_k 3 --csv predictions.csv

Images of any size or channel count go through the classifier's own preprocessing. A file
that cannot be read is named in one line on stderr while the others are still predicted; the
exit code is then 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autoenc.cli._generate import Generated
from autoenc.cli.features import emit
from autoenc.cli.option_checks import OPTIONAL_PATH, PATH
from autoenc.core.constraints import POSITIVE_INT, Interval, ListOf, check_param


def predict_images(
    classifier: Path,
    paths: list[Path],
    *,
    top_k: int = 1,
    csv: Path | None = None,
    batch_size: int = 256,
) -> int:
    """Classify image files and folders (searched recursively) with a classifier directory.

    Prints each file's top-k labels with their probabilities; --csv writes one row per file and
    label (path,label,probability). Unreadable files are named on stderr (exit code 1), the
    others predicted.

    Args:
        classifier: classifier directory (from `autoenc retrain`).
        paths: image files and folders.
        top_k: labels per image, from 1 to the number of classes.
        csv: also write the predictions to this CSV file.
        batch_size: images per forward pass.
    """
    import csv as csv_module

    import torch

    from autoenc.core.atomic import atomic_file
    from autoenc.features.classifier import load_classifier, read_images

    model = load_classifier(classifier)
    check_param("--top_k", [Interval(int, 1, len(model.class_names), note="the classifier's classes")], top_k)
    images, failed = read_images(paths)
    for _, why in failed:
        print(f"autoenc predict: error: {why}", file=sys.stderr)
    rows = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        # each file has its own size and channels: prepare one by one, then one batch
        x = torch.cat([model.prepare(image) for _, image in chunk])
        proba = model.predict_proba(x, batch_size)
        for (file, _), p in zip(chunk, proba, strict=True):
            best = p.argsort()[::-1][:top_k]
            rows.append((file, [(model.class_names[i], float(p[i])) for i in best]))
    if csv is not None:
        with atomic_file(csv, "w") as f:
            writer = csv_module.writer(f)
            writer.writerow(["path", "label", "probability"])
            for file, top in rows:
                writer.writerows([str(file), label, f"{prob:.6f}"] for label, prob in top)
    for file, top in rows:
        if not emit(f"{file}: " + ", ".join(f"{label} {prob:.3f}" for label, prob in top)):
            break
    return 1 if failed else 0


predict_command = Generated(predict_images, "autoenc predict", positional=("classifier", "paths"), params={
    "classifier": [PATH], "paths": [ListOf(PATH, non_empty=True)], "top_k": [POSITIVE_INT], "csv": OPTIONAL_PATH,
    "batch_size": [POSITIVE_INT]})
