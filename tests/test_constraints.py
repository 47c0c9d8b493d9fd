"""Declared parameter constraints: what they accept and the one wording of their messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autoenc.core.constraints import (
    IMAGE_SHAPE,
    POSITIVE_INT,
    InstanceOf,
    Interval,
    ListOf,
    Null,
    Options,
    check_param,
    check_params,
    show,
)
from autoenc.core.errors import UserError


@pytest.mark.parametrize(("constraint", "good", "bad"), [
    (POSITIVE_INT, [1, 7, np.int64(3)], [0, -1, 2.0, True, "3", None]),
    (Interval(float, 0, 1, closed="neither"), [0.5, 1e-9, np.float32(0.3)], [0, 1, 1.5, math.nan, True, "0.5"]),
    (Interval(float, 0, 1, closed="both"), [0, 1, 0.0, 1.0], [-0.01, 1.01]),
    (Interval(float, 0, None, closed="left"), [0, 3.5, 10**9], [-1e-9, math.nan]),
    (Interval(int, None, 3, closed="right"), [3, -100], [4, 3.0]),
    (Interval(int, None, None), [0, -5], [0.5, False, math.inf]),
    (Options(("a", "b")), ["a", "b"], ["c", None, 1]),
    (Options((True, False, "default")), [True, False, "default"], [1, 0, "true"]),
    (Null(), [None], [0, "", "null"]),
    (IMAGE_SHAPE, [(1, 8, 8), [3, 4, 5]], [(1, 8), (1, 0, 8), "1x8x", None, (1, 8, 8.0)]),
    (ListOf(POSITIVE_INT, non_empty=True), [[1], (2, 3)], [[], "12", [0], 3]),
    (ListOf(POSITIVE_INT), [[], [4]], [[-1], None]),
    (InstanceOf(dict, "a mapping"), [{}, {"a": 1}], [[], None]),
])
def test_what_each_constraint_accepts(constraint, good: list, bad: list) -> None:
    assert all(constraint.is_satisfied_by(v) for v in good)
    assert not any(constraint.is_satisfied_by(v) for v in bad), [v for v in bad if constraint.is_satisfied_by(v)]


@pytest.mark.parametrize(("constraints", "value", "message"), [
    ([POSITIVE_INT], 0, "latent_dim must be an integer >= 1, got 0"),
    ([Interval(float, 0, None, closed="neither")], -1.0, "latent_dim must be a number > 0, got -1.0"),
    ([Interval(float, 0, 1, closed="neither")], 1.0, "latent_dim must be a number in (0, 1), got 1.0"),
    ([Interval(int, 0, 3)], 9, "latent_dim must be an integer in [0, 3], got 9"),
    ([Interval(int, None, 0, closed="neither")], 1, "latent_dim must be an integer < 0, got 1"),
    ([Interval(int, 2, None, note="one per split"), Null()], 1,
     "latent_dim must be an integer >= 2 (one per split) or null, got 1"),
    ([Options(("mss", "mws"))], "iw", "latent_dim must be one of 'mss', 'mws', got 'iw'"),
    ([Options((True, False)), Null(note="auto"), POSITIVE_INT], "x",
     "latent_dim must be one of true, false, null (auto) or an integer >= 1, got 'x'"),
    ([ListOf(POSITIVE_INT, length=3, label="(C, H, W)")], (1, 2),
     "latent_dim must be (C, H, W), a list of 3 integers >= 1, got (1, 2)"),
    ([ListOf(Interval(float, 0, None, closed="left"), non_empty=True)], [],
     "latent_dim must be a non-empty list of numbers >= 0, got []"),
])
def test_one_wording(constraints: list, value: object, message: str) -> None:
    with pytest.raises(UserError) as err:
        check_param("latent_dim", constraints, value)
    assert str(err.value) == message


def test_check_params_checks_in_declared_order_and_passes_good_values() -> None:
    declared = {"a": [POSITIVE_INT], "b": [Options(("x",))]}
    check_params(declared, {"a": 1, "b": "x", "unrelated": object()})
    with pytest.raises(UserError, match=r"^a must be an integer >= 1, got 0$"):
        check_params(declared, {"a": 0, "b": "y"})
    with pytest.raises(UserError, match=r"^b must be one of 'x', got 'y'$"):
        check_params(declared, {"a": 1, "b": "y"})


def test_check_param_returns_the_value() -> None:
    assert check_param("n", [POSITIVE_INT], 5) == 5


def test_show_writes_values_as_yaml_does() -> None:
    assert [show(v) for v in (None, True, False, "a", 0.5)] == ["null", "true", "false", "'a'", "0.5"]


def test_interval_kind_must_be_int_or_float() -> None:
    with pytest.raises(TypeError):
        Interval(str, 0, 1)
