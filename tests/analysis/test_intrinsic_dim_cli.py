"""``autoenc id``: JSON + PNG from a .npy array, one-line errors with exit code 2."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from autoenc.cli.intrinsic_dim import main as id_command
from autoenc.cli.main import main


@pytest.fixture
def plane_npy(tmp_path):
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((32, 4)))
    path = tmp_path / "codes.npy"
    np.save(path, (rng.standard_normal((800, 4)) @ basis.T).astype(np.float32))
    return path


def test_writes_json_and_plot(plane_npy, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "id",
            str(plane_npy),
            "--out",
            str(out),
            "--repeats",
            "2",
            "--levels",
            "2",
            "--estimators",
            "[twonn,mle,gride,pca]",
            "--k",
            "10",
            "--max_rank",
            "16",
        ]
    )
    assert code == 0
    data = json.loads((out / "intrinsic_dim.json").read_text())
    assert data["shape"] == [800, 32] and data["input"] == str(plane_npy)
    got = {r["estimator"]: r for r in data["results"]}
    assert list(got) == ["twonn", "mle", "gride", "pca"]
    assert got["mle"]["parameters"]["k"] == 10 and got["gride"]["parameters"]["max_rank"] == 16
    for r in got.values():
        assert r["value"] == pytest.approx(4, abs=0.7) and r["spread"] is not None
        assert r["n"] == 800
    assert got["pca"]["linear"] is True
    assert (out / "intrinsic_dim.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "mle: " in capsys.readouterr().out


def test_images_are_flattened_and_max_points_subsamples(tmp_path):
    x = np.random.default_rng(1).random((300, 1, 3, 3))
    np.save(tmp_path / "img.npy", x)
    code = main(
        [
            "id",
            str(tmp_path / "img.npy"),
            "--out",
            str(tmp_path / "o"),
            "--estimators",
            "[twonn]",
            "--repeats",
            "0",
            "--max_points",
            "200",
        ]
    )
    assert code == 0
    data = json.loads((tmp_path / "o" / "intrinsic_dim.json").read_text())
    assert data["shape"] == [300, 1, 3, 3] and data["results"][0]["n"] == 200


@pytest.mark.parametrize(
    ("array", "args", "match"),
    [
        (np.full((20, 3), np.nan), [], "NaN or inf"),
        (np.zeros(5), [], r"\(N, D\) array"),
        (
            np.random.default_rng(0).random((30, 3)),
            ["--k", "1", "--estimators", "[mle]"],
            "--k must be an integer >= 2 or null, got 1",
        ),
        (np.random.default_rng(0).random((10, 3)), ["--estimators", "[mle]"], "too few"),
        (
            np.random.default_rng(0).random((30, 3)),
            ["--discard_fraction", "1"],
            r"--discard_fraction must be a number in \[0, 1\)",
        ),
        (np.ones((30, 3)), [], "all 30 points are identical"),
        (
            np.random.default_rng(0).random((30, 3)),
            ["--estimators", "[twonn]", "--k", "5"],
            "--k sets mle, which is not among --estimators twonn",
        ),
        (
            np.random.default_rng(0).random((30, 3)),
            ["--estimators", "[towNN]"],
            "unknown ID estimator",
        ),
        (np.random.default_rng(0).random((30, 3)), ["--repeats", "x"], "repeats: expected int; got x"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, array, args, match):
    np.save(tmp_path / "x.npy", array)
    code = main(
        ["id", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o"), "--repeats", "0", *args]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("autoenc id: error: ") and err.count("\n") == 1
    assert pytest.importorskip("re").search(match, err), err


def test_missing_and_non_numeric_files(tmp_path, capsys):
    assert main(["id", str(tmp_path / "nope.npy"), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["id", str(tmp_path / "obj.npy"), "--out", str(tmp_path)]) == 2
    assert "not a numeric .npy array" in capsys.readouterr().err


def test_help_states_the_estimators_defaults():
    from autoenc.measure.intrinsic_dim import ESTIMATORS

    text = " ".join(id_command.parser().format_help().split())
    flags = {
        "k": "mle",
        "discard_fraction": "twonn",
        "n1": "gride",
        "max_rank": "gride",
        "variance": "pca",
    }
    for param, name in flags.items():
        field = {f.name: f for f in dataclasses.fields(ESTIMATORS.get(name))}[param]
        flag = "--" + param
        assert f"{flag} " in text and f"(default {field.default})" in text, (flag, field.default)


def test_data_options_are_spelled_as_in_fit(tmp_path, capsys):
    """`autoenc id --data.source digits --data.image_size 16` measures 16 x 16 digits, as fit reads them."""
    code = main(["id", "--data.source", "digits", "--data.image_size", "16", "--data.subset", "200",
                 "--out", str(tmp_path / "o"), "--estimators", "[twonn]", "--repeats", "0"])
    assert code == 0, capsys.readouterr().err
    data = json.loads((tmp_path / "o" / "intrinsic_dim.json").read_text())
    assert data["shape"] == [20, 256] and data["measured"] == "images"  # val split of 200 (0.1), 1 x 16 x 16


def test_help_and_print_config(tmp_path, capsys):
    help_text = " ".join(id_command.parser().format_help().split())
    for option in ("--data.source", "--data.image_size", "-c CONFIG", "--print_config"):
        assert option in help_text, option
    assert main(["id", "x.npy", "--out", "o", "--k", "7", "--print_config"]) == 0
    printed = capsys.readouterr().out
    assert "k: 7" in printed and "out: o" in printed
    config = tmp_path / "id.yaml"
    config.write_text(printed)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((60, 3)).astype(np.float32))
    assert main(["id", "-c", str(config), str(tmp_path / "x.npy"), "--out", str(tmp_path / "o"),
                 "--estimators", "[mle]", "--repeats", "0"]) == 0
    assert json.loads((tmp_path / "o" / "intrinsic_dim.json").read_text())["results"][0]["parameters"]["k"] == 7
