"""The command line writes the promised files and fails cleanly on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
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


def test_run_writes_flows_agents_units_provenance_and_log(tmp_path):
    """flows.parquet and agents.parquet agree with the monthly series of the same run; units and
    provenance are in the files."""
    from sim.outputs import table_units
    from sim.run_tables import FLOW_GOODS
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--seed", "2", "--until", "2025-03", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ts = pd.read_parquet(out / "timeseries.parquet").set_index("date")
    flows = pd.read_parquet(out / "flows.parquet")
    assert list(flows.columns) == ["month", "exporter", "importer", "good", "t"]
    assert set(flows["good"]) == set(FLOW_GOODS) and sorted(set(flows["month"])) == list(ts.index)
    assert (flows["t"] >= 1e-3).all()
    magnets = flows[flows["good"] == "NdFeB"].groupby("month")["t"].sum()
    assert magnets.to_numpy() == pytest.approx(ts["production_magnets_t"].to_numpy(), rel=1e-3)
    agents = pd.read_parquet(out / "agents.parquet")
    assert sorted(set(agents["date"])) == ["2024-01", "2025-01"]          # yearly
    assert set(agents["agent_type"]) == {"industry", "nation", "trader"}
    nations = agents[(agents["agent_type"] == "nation") & (agents["date"] == "2025-01")].set_index("iso3")
    for iso in ("CHN", "USA", "JPN"):
        assert nations.loc[iso, "stockpile_t"] == pytest.approx(ts.loc["2025-01", f"stockpile_{iso}_t"])
    units = table_units(out / "timeseries.parquet")
    assert units["price_Nd_usd_per_kg"] == "USD/kg" and units["shortage_t"] == "t"
    assert units["china_share_mining"] == "0-1"
    assert table_units(out / "flows.parquet")["t"] == "t"
    config = json.loads((out / "config.json").read_text())
    assert config["versions"]["mesa"].startswith("3.") and config["versions"]["python"]
    assert "git_commit" in config and config["seed"] == 2
    log = (out / "reesim.log").read_text()
    assert "run baseline seed 2 until 2025-03" in log and "flows.parquet" in log


def test_run_with_an_unknown_scenario_exits_2_and_names_the_choices(tmp_path):
    result = runner.invoke(app, ["run", "--scenario", "no_such", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "unknown scenario 'no_such'" in result.output and "baseline" in result.output
    assert not (tmp_path / "x").exists()


def test_scenarios_lists_names_with_descriptions():
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    assert "baseline" in result.output and "2050" in result.output


@pytest.mark.slow
def test_calibrate_writes_to_out_and_changes_the_shipped_fit_only_when_asked(tmp_path, monkeypatch):
    import hashlib

    from sim import validate
    shipped = validate.FITTED_PATH
    before = hashlib.sha256(shipped.read_bytes()).hexdigest()
    args = ["calibrate", "--budget", "1", "--seeds", "1", "--workers", "0", "--param", "spec_sensitivity"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    fitted = pd.read_csv(tmp_path / "a" / "fitted_2010.csv")
    assert fitted["name"].tolist() == ["spec_sensitivity"] and "budget 1" in fitted["calibrated_to"][0]
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == before
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["command"] == "calibrate" and config["search_seed"] == 2010 and config["versions"]["scipy"]
    assert "generation 0: best loss" in (tmp_path / "a" / "reesim.log").read_text()
    png = (tmp_path / "a" / "calibration.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000               # the search and the fit, drawn
    stand_in = tmp_path / "shipped" / "fitted_2010.csv"            # never the real file in a test
    monkeypatch.setattr(validate, "FITTED_PATH", stand_in)
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--update-shipped"])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(stand_in), pd.read_csv(tmp_path / "b" / "fitted_2010.csv"))


def test_calibrate_with_an_unknown_parameter_exits_2_and_lists_the_names(tmp_path):
    result = runner.invoke(app, ["calibrate", "--param", "no_such", "--workers", "0", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "no_such" in result.output and "spec_sensitivity" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()


def test_run_figures_label_their_units(run):
    from sim.model import RareEarthModel
    from sim.plots import run_figures
    nations = RareEarthModel("baseline", seed=1, until="2024-01").world.nations
    figures = run_figures(run("baseline", seed=1, until="2024-06").reset_index(), nations)
    labels = {stem: fig.axes[0].get_ylabel() for stem, fig in figures.items()}
    assert "USD/kg" in labels["prices"] and "[kg]" not in labels["prices"]
    assert "(0-1)" in labels["china_share"]
    assert labels["shortages"].startswith("unmet demand (t ") and labels["mine_output"].startswith("mine output (t ")


def test_ui_refuses_a_port_out_of_range_with_exit_code_2():
    from typer.testing import CliRunner

    from sim.cli import app
    result = CliRunner().invoke(app, ["ui", "--port", "70000"])
    assert result.exit_code == 2
    assert "--port" in result.output and "Traceback" not in result.output
