"""Label efficiency (`autoenc probe CACHE --labels_per_class ...`): accuracy grows with labels,
intervals over draws, table + plot, one-line errors."""

from __future__ import annotations

import json

import pytest

from autoenc.cli.main import main
from autoenc.core.errors import UserError
from autoenc.features.label_efficiency import label_efficiency, parse_counts


@pytest.fixture(scope="module")
def cache(tmp_path_factory, trained_ckpt, digits_dm):
    from autoenc.features import extract_features

    return extract_features(str(trained_ckpt), digits_dm, tmp_path_factory.mktemp("c") / "train", split="train")


def test_accuracy_grows_with_labels(cache):
    result = label_efficiency(cache, "1,10,all", draws=4)
    one, ten, everything = result.points
    assert [p.labels_per_class for p in result.points] == [1, 10, "all"]
    assert one.n_train == result.n_classes == 10 and ten.n_train == 100 and len(one.accuracies) == 4
    assert len(everything.accuracies) == 1 and everything.ci_low == everything.ci_high == everything.mean
    assert one.ci_low <= one.mean <= one.ci_high and one.std > 0
    assert result.chance < one.mean < ten.mean < everything.mean + 0.02
    assert everything.mean > result.chance + 0.5
    again = label_efficiency(cache, [1, 10, "all"], draws=4)
    assert again.points == result.points  # seeded


def test_counts_and_errors(cache):
    assert parse_counts("1, 10,all") == [1, 10, "all"]
    for bad in ("0", "x", "1.5", ""):
        with pytest.raises(UserError, match="labels_per_class"):
            parse_counts(bad)
    with pytest.raises(UserError, match=r"labels_per_class 1000 is larger than the smallest class \(\d+ training items"):
        label_efficiency(cache, "1,1000")
    with pytest.raises(UserError, match="draws must be"):
        label_efficiency(cache, "1", draws=0)


def test_cli_table_plot_json(cache, tmp_path, capsys):
    code = main(["probe", str(cache.path), "--labels_per_class", "1,5,all", "--draws", "3",
                 "--plot", str(tmp_path / "le.png"), "--json", str(tmp_path / "le.json")])
    out = capsys.readouterr().out
    assert code == 0 and "labels/class" in out and len(out.strip().splitlines()) == 2 + 3
    assert (tmp_path / "le.png").read_bytes()[:4] == b"\x89PNG"
    assert [p["labels_per_class"] for p in json.loads((tmp_path / "le.json").read_text())["points"]] == [1, 5, "all"]
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["probe", str(cache.path), "--labels_per_class", "1,100000", "--plot", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "larger than the smallest class" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
