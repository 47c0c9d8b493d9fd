"""What ``retrain`` and its distortions accept: constraint tables without torch, so the
``autoenc retrain`` command checks its options (and answers ``--help``) before importing it."""

from __future__ import annotations

from autoenc.core.constraints import Interval, Null

#: :func:`autoenc.features.retrain.retrain`'s training parameters.
RETRAIN_PARAMS = {
    "hidden": [Interval(int, 1, None, closed="left", note="hidden layer width"), Null()],
    "test_fraction": [Interval(float, 0, 1, closed="neither", note="share held out for the reported accuracy")],
    "val_fraction": [Interval(float, 0, 1, closed="neither", note="share held out for early stopping")],
    "epochs": [Interval(int, 1, None, closed="left")],
    "patience": [Interval(int, 1, None, closed="left", note="epochs without a better validation loss")],
    "learning_rate": [Interval(float, 0, None, closed="neither")],
    "weight_decay": [Interval(float, 0, None, closed="left")],
    "batch_size": [Interval(int, 1, None, closed="left")],
    "seed": [Interval(int, 0, 2**32, closed="left")],
}

#: :class:`autoenc.features.distort.Distortions`' parameters (fractions).
DISTORTION_PARAMS = {
    "crop": [Interval(float, 0, 1, closed="left", note="a fraction of the image size, e.g. 0.1")],
    "scale": [Interval(float, 0, 1, closed="left", note="a fraction of the image size, e.g. 0.1")],
    "brightness": [Interval(float, 0, 1, closed="left", note="a fraction, e.g. 0.1")],
}
