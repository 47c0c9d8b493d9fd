"""The options of a sweep and what each accepts: :func:`~autoenc.workflows.sweep.orchestrate.sweep`
checks them, ``autoenc sweep`` declares them (this module imports no torch, so ``--help`` stays
fast)."""

from __future__ import annotations

import os

from autoenc.core.constraints import BOOL, POSITIVE_INT, InstanceOf, Interval, ListOf, Null, Options

#: the constraints of :func:`sweep`'s options (``autoenc sweep`` declares the same)
SWEEP_PARAMS: dict[str, list] = {
    "latent_dims": [ListOf(POSITIVE_INT, non_empty=True)], "seeds": [POSITIVE_INT], "jobs": [POSITIVE_INT],
    "out": [InstanceOf((str, os.PathLike), "a path"), Null()], "max_epochs": [POSITIVE_INT, Null()],
    "ordered": [BOOL], "fit": [InstanceOf(dict, "a mapping of option to value"), Null()],
    "recon_tolerance": [Interval(float, 0, 1, closed="left")],
    "id_tolerance": [Interval(float, 0, None, closed="left")],
    "id_repeats": [Options([0]), Interval(int, 2, None, closed="left")], "probe": [BOOL],
    "size_option": [Options(["latent_dim", "latent_channels", "k"])],
    "labels_per_class": [InstanceOf((str, list, tuple), "counts such as '1,10,all'"), Null()],
    "draws": [POSITIVE_INT]}
