"""The command line writes the promised files and fails cleanly on bad input."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from sim.cli import app

runner = CliRunner()


def test_run_writes_tables_config_and_plots(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--scenario", "baseline", "--seed", "4", "--until", "2024-06",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("timeseries.parquet", "timeseries.csv", "config.json", "prices.png",
                 "china_share.png", "shortages.png", "mine_output.png"):
        assert (out / name).stat().st_size > 0, name
    df = pd.read_parquet(out / "timeseries.parquet")
    assert df["date"].tolist() == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 4 and config["scenario"]["name"] == "baseline"
    assert config["parameters"]["logit_beta"]["source"]
    assert "china_share_separation" in result.output


def test_run_with_an_unknown_scenario_exits_2_and_names_the_choices(tmp_path):
    result = runner.invoke(app, ["run", "--scenario", "no_such", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "unknown scenario 'no_such'" in result.output and "baseline" in result.output
    assert not (tmp_path / "x").exists()


def test_scenarios_lists_names_with_descriptions():
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    assert "baseline" in result.output and "2050" in result.output
