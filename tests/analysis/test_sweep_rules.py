"""Sweep without training: the recommendation rule on known tables, plans, sweep directories,
and the one-line errors of `autoenc sweep`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from autoenc.cli.main import main
from autoenc.core.errors import UserError
from autoenc.workflows.sweep import Rule, make_plan, parse_sizes, recommend, summarize
from autoenc.workflows.sweep.plan import RunSpec, check_sweep_dir, prepare_sweep_dir, run_state

SIZES = [2, 4, 8, 16, 32]
CONFIG = {
    "name": "tiny", "seed_everything": 3,
    "data": {"source": "digits", "batch_size": 128},
    "model": {"class_path": "Autoencoder", "init_args": {"net": {"class_path": "MLPNet", "init_args": {"hidden": [16]}}}},
    "trainer": {"max_epochs": 1},
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


# -- the rule, on tables with known answers -------------------------------------------------------
def test_reconstruction_knee_within_tolerance_of_range() -> None:
    # range 40 - 15.5 = 24.5, 5% = 1.225: 16 is 0.5 above the best, 8 is 6.5 above
    rec = recommend(SIZES, [40.0, 30.0, 22.0, 16.0, 15.5])
    assert (rec.latent_dim, rec.by_recon, rec.by_id) == (16, 16, None)
    assert "5%" in rec.rule and "16" in rec.reason


def test_larger_tolerance_picks_a_smaller_size() -> None:
    # 30% of 24.5 = 7.35: 8 (6.5 above the best) now qualifies
    assert recommend(SIZES, [40.0, 30.0, 22.0, 16.0, 15.5], rule=Rule(recon_tolerance=0.3)).latent_dim == 8


def test_id_plateau_raises_the_recommendation() -> None:
    recon = [40.0, 20.0, 15.1, 15.05, 15.0]  # knee at 8
    ids = [2.0, 4.0, 7.0, 9.0, 9.5]  # 9.5 <= 9.0 * 1.1 but > 7.0 * 1.1: ID stops growing at 16
    rec = recommend(SIZES, recon, ids=ids)
    assert (rec.by_recon, rec.by_id, rec.latent_dim) == (8, 16, 16)


def test_reconstruction_decides_when_the_id_plateaus_early() -> None:
    rec = recommend(SIZES, [40.0, 30.0, 22.0, 16.0, 15.5], ids=[1.9, 3.0, 3.1, 3.2, 3.0])
    assert (rec.by_recon, rec.by_id, rec.latent_dim) == (16, 4, 16)


def test_a_later_rise_of_the_id_is_not_a_plateau() -> None:
    # 4 -> 8 flat, but 16 jumps: the plateau starts at 16
    assert recommend(SIZES, [5, 5, 5, 5, 5], ids=[2.0, 4.0, 4.1, 8.0, 8.2]).by_id == 16


def test_standard_error_of_the_best_counts_as_equal() -> None:
    rule = Rule(recon_tolerance=0.0)
    assert recommend([2, 4, 8], [30.0, 20.5, 20.0], rule=rule).latent_dim == 8
    assert recommend([2, 4, 8], [30.0, 20.5, 20.0], recon_error=[0.1, 0.1, 1.0], rule=rule).latent_dim == 4


def test_unknown_ids_are_ignored_and_negative_nats_work() -> None:
    rec = recommend([2, 4, 8], [-100.0, -140.0, -141.0], ids=[math.nan, 3.0, 3.1])
    assert (rec.by_recon, rec.by_id) == (4, 4)
    assert recommend([2, 4], [3.0, 2.0], ids=[math.nan, math.nan]).by_id is None


def test_single_size_is_recommended() -> None:
    assert recommend([8], [12.0], ids=[5.0]).latent_dim == 8


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sizes": [4, 2], "recon": [1.0, 2.0]}, "ascending"),
    ({"sizes": [2, 4], "recon": [1.0]}, "1 values for 2 sizes"),
    ({"sizes": [], "recon": []}, "no sizes"),
    ({"sizes": [2, 4], "recon": [1.0, math.nan]}, "finite"),
])
def test_bad_tables_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(UserError, match=match):
        recommend(kwargs["sizes"], kwargs["recon"])


def test_bad_tolerances_are_refused() -> None:
    with pytest.raises(UserError, match="recon tolerance must be in"):
        Rule(recon_tolerance=1.5)
    with pytest.raises(UserError, match="ID tolerance must be >= 0"):
        Rule(id_tolerance=-0.1)


def test_summarize_means_and_spread_over_seeds() -> None:
    rows = [{"latent_dim": 4, "recon": 10.0, "twonn": 3.0, "kl": None},
            {"latent_dim": 4, "recon": 12.0, "twonn": 5.0, "kl": None},
            {"latent_dim": 2, "recon": 20.0, "twonn": 2.0, "kl": None}]
    two, four = summarize(rows)
    assert (two.latent_dim, two.n, four.n) == (2, 1, 2)
    assert four.mean["recon"] == 11.0 and four.std["recon"] == pytest.approx(math.sqrt(2.0))
    assert four.sem("recon") == pytest.approx(1.0) and two.sem("recon") == 0.0
    assert math.isnan(four.mean["kl"])


# -- plans and sweep directories ---------------------------------------------------------------------
def test_plan_runs_and_fit_arguments(config: Path, tmp_path: Path) -> None:
    plan = make_plan(config, [8, 2], seeds=2, out=tmp_path / "s", max_epochs=3, overrides={"data.subset": 100})
    assert plan.sizes == (2, 8) and plan.seeds == (3, 4)  # seeds start at the config's seed_everything
    assert [r.name for r in plan.runs()] == ["d2_s3", "d2_s4", "d8_s3", "d8_s4"]
    options = plan.fit_overrides(plan.runs()[0], resume=True)
    assert options["model.init_args.latent_dim"] == 2 and options["seed_everything"] == 3
    assert options["trainer.max_epochs"] == 3 and options["data.subset"] == 100
    assert options["ckpt_path"] == "last" and options["name"] == "d2_s3"
    assert "model.init_args.nested_dropout" not in options

    ordered = make_plan(config, [2, 8, 32], seeds=1, out=tmp_path / "o", ordered=True)
    (run,) = ordered.runs()
    assert run == RunSpec(32, 3, ordered=True) and run.name == "ordered_d32_s3"
    assert ordered.prefixes(run) == [2, 8, 32]
    assert ordered.fit_overrides(run, resume=False)["model.init_args.nested_dropout"] is True


def test_default_out_names_the_config(config: Path) -> None:
    assert make_plan(config, [2]).out == Path("sweeps/tiny")
    assert make_plan(config, [2], ordered=True).out == Path("sweeps/tiny_ordered")


def test_sweep_dir_records_and_refuses_another_sweep(config: Path, tmp_path: Path) -> None:
    plan = make_plan(config, [2, 4], out=tmp_path / "s")
    assert not check_sweep_dir(plan)
    prepare_sweep_dir(plan)
    recorded = yaml.safe_load((tmp_path / "s" / "sweep_config.yaml").read_text())
    assert recorded["latent_dims"] == [2, 4] and recorded["config"]["name"] == "tiny"
    assert check_sweep_dir(make_plan(config, [4, 2], out=tmp_path / "s"))  # same sweep: reused
    assert run_state(plan, plan.runs()[0]) == "new"
    with pytest.raises(UserError, match="holds another sweep .*latent_dims"):
        check_sweep_dir(make_plan(config, [2, 8], out=tmp_path / "s"))
    with pytest.raises(UserError, match="holds another sweep .*seeds"):
        check_sweep_dir(make_plan(config, [2, 4], seeds=2, out=tmp_path / "s"))
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump({**CONFIG, "trainer": {"max_epochs": 2}}))
    with pytest.raises(UserError, match="holds another sweep .*config"):
        check_sweep_dir(make_plan(edited, [2, 4], out=tmp_path / "s"))


def test_non_sweep_directory_is_refused(config: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a sweep directory"):
        prepare_sweep_dir(make_plan(config, [2], out=tmp_path / "busy"))


@pytest.mark.parametrize(("text", "match"), [
    ("", "comma-separated list of integers"),
    (",", "comma-separated list of integers"),
    ("2,x", "comma-separated list of integers"),
    ("2,0", "sizes must be >= 1, got 0"),
    ("4,4", "repeats 4"),
])
def test_parse_sizes_errors(text: str, match: str) -> None:
    with pytest.raises(UserError, match=match):
        parse_sizes(text)


def test_parse_sizes_sorts() -> None:
    assert parse_sizes("16, 2,8") == (2, 8, 16)


# -- the command line: exit 2 and one stderr line ----------------------------------------------------
def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], match: str) -> None:
    assert main(["sweep", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("autoenc sweep: error: ")
    assert match in err[0], err[0]


@pytest.mark.parametrize(("extra", "match"), [
    (["--latent_dims", ""], "--latent_dims must be a non-empty list of integers >= 1, got []"),
    (["--latent_dims", "2,four"], "latent_dims: expected integers separated by commas"),
    (["--latent_dims", "0,4"], "--latent_dims must be a non-empty list of integers >= 1, got [0, 4]"),
    (["--latent_dims", "[0, 4]"], "--latent_dims must be a non-empty list of integers >= 1, got [0, 4]"),
    (["--latent_dims", "2,4", "--jobs", "0"], "--jobs must be an integer >= 1, got 0"),
    (["--latent_dims", "2,4", "--seeds", "0"], "--seeds must be an integer >= 1"),
    (["--latent_dims", "2,4", "--max_epochs", "-1"], "--max_epochs must be an integer >= 1"),
    (["--latent_dims", "2,4", "--jobs", "two"], "jobs: expected int; got two"),
])
def test_cli_bad_options(extra: list[str], match: str, config: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(config), "--out", str(tmp_path / "s"), *extra], capsys, match)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(("content", "match"), [
    ({"data": {"source": "digits"}}, "is not a model config: it has no model: section"),
    ({"model": {"class_path": "sklearn.linear_model.Ridge"}}, "model.class_path 'sklearn.linear_model.Ridge' is not"),
    ([1, 2], "is not a model config"),
])
def test_cli_refuses_configs_that_are_not_model_configs(content: object, match: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(content))
    _fails([str(path), "--latent_dims", "2", "--out", str(tmp_path / "s")], capsys, match)


def test_cli_refuses_a_config_typo_before_making_the_directory(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "model": {"class_path": "Autoencoder",
                                                        "init_args": {"lattent_dim": 3}}}))
    _fails([str(path), "--latent_dims", "2", "--out", str(tmp_path / "s")], capsys, "lattent_dim")
    assert not (tmp_path / "s").exists()


def test_cli_refuses_another_sweeps_directory(config: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    prepare_sweep_dir(make_plan(config, [2, 4], out=tmp_path / "s"))
    _fails([str(config), "--latent_dims", "2,8", "--out", str(tmp_path / "s")], capsys,
           "holds another sweep (its latent_dims differs)")


def test_cli_missing_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(tmp_path / "nope.yaml"), "--latent_dims", "2"], capsys, "not found")
