"""Kept only for :func:`instantiate_datamodule`'s old import path (tests/data); every command
now takes fit's ``--data.*`` options (:mod:`autoenc.cli._generate`). Remove once nothing imports it."""

from autoenc.cli._generate import instantiate_datamodule

__all__ = ["instantiate_datamodule"]
