"""``reesim compare``: same seed for every scenario, one table, side-by-side plots."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.compare import compare_table, max_ratio_in_window, scenario_row

runner = CliRunner()


def _frame(dates, **cols) -> pd.DataFrame:
    return pd.DataFrame({"date": dates, **cols})


def test_compare_writes_table_plots_and_config(tmp_path):
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", "baseline", "china_full_ban", "--seed", "3",
                                 "--until", "2025-06", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("compare.csv", "compare.parquet", "compare_timeseries.parquet", "config.json",
                 "compare_prices.png", "compare_china_share_separation.png", "compare_shortages.png",
                 "compare_central_asia.png"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "compare.csv")
    assert table["scenario"].tolist() == ["baseline", "china_full_ban"]
    for col in ("price_Dy_peak_usd_per_kg", "price_Nd_2030_usd_per_kg", "price_Tb_2040_usd_per_kg",
                "china_share_separation_2030", "hhi_mining_2040", "shortage_USA_cum_t",
                "shortage_JPN_cum_t", "shortage_KOR_cum_t", "shortage_DEU_cum_t", "shortage_CHN_cum_t",
                "central_asia_mine_output_2035_t", "usa_supply_china_share_2040",
                "price_Dy_max_ratio_to_ref_12m"):
        assert col in table.columns, col
    assert (table["months"] == 18).all()
    assert table["price_Nd_2030_usd_per_kg"].isna().all()       # the run stops before 2030
    assert "price_Dy_peak_usd_per_kg" in result.output and "china_full_ban" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 3 and set(config["runs"]) == {"baseline", "china_full_ban"}
    assert all(r["seed"] == 3 for r in config["runs"].values())
    series = pd.read_parquet(out / "compare_timeseries.parquet")
    assert set(series["scenario"]) == {"baseline", "china_full_ban"}


def test_compare_uses_common_random_numbers(tmp_path):
    """Before any policy differs (the ban starts in 2026-04) the two runs are identical."""
    result = runner.invoke(app, ["compare", "baseline", "china_full_ban", "--seed", "2",
                                 "--until", "2024-06", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    series = pd.read_parquet(tmp_path / "compare_timeseries.parquet")
    a = series[series["scenario"] == "baseline"].drop(columns="scenario").reset_index(drop=True)
    b = series[series["scenario"] == "china_full_ban"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_compare_with_a_bad_scenario_fails_before_any_run(tmp_path):
    result = runner.invoke(app, ["compare", "baseline", "no_such", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "unknown scenario 'no_such'" in result.output
    assert not (tmp_path / "x").exists()


def test_compare_needs_two_scenarios_and_a_valid_month(tmp_path):
    one = runner.invoke(app, ["compare", "baseline", "--out", str(tmp_path / "a")])
    assert one.exit_code == 2 and "SCENARIOS" in one.output and "china_full_ban" in one.output   # the allowed names
    assert not (tmp_path / "a").exists()
    result = runner.invoke(app, ["compare", "baseline", "china_full_ban", "--until", "2025-13",
                                 "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "--until" in result.output


def test_max_ratio_in_window_reads_only_the_window():
    dates = ["2026-03", "2026-04", "2026-05", "2026-06"]
    ref = _frame(dates, p=[10.0, 10.0, 10.0, 10.0])
    df = _frame(dates, p=[100.0, 20.0, 35.0, 50.0])
    assert max_ratio_in_window(df, ref, "p", "2026-04", months=2) == pytest.approx(3.5)
    assert math.isnan(max_ratio_in_window(df, ref, "p", None))


def test_yearly_measures_are_means_and_totals_of_full_years():
    dates = [f"2035-{m:02d}" for m in range(1, 13)] + ["2036-01"]
    n = len(dates)
    cols = {c: [0.0] * n for c in _minimal_columns()}
    cols["central_asia_mine_output_t"] = [10.0] * n
    cols["shortage_USA_t"] = [1.0] * n
    df = _frame(dates, **cols)
    row = scenario_row(df)
    assert row["central_asia_mine_output_2035_t"] == pytest.approx(120.0)
    assert row["shortage_USA_cum_t"] == pytest.approx(13.0)
    assert math.isnan(row["usa_supply_china_share_2040"])
    doubled = df.assign(price_Dy_usd_per_kg=2.0 * (df["price_Dy_usd_per_kg"] + 1.0))
    table = compare_table({"a": df.assign(price_Dy_usd_per_kg=1.0), "b": doubled}, {"b": "2035-01"})
    assert table["reference"].tolist() == ["a", "a"]
    assert math.isnan(table.loc[0, "price_Dy_max_ratio_to_ref_12m"])      # no events: no window
    assert table.loc[1, "price_Dy_max_ratio_to_ref_12m"] == pytest.approx(2.0)


def _minimal_columns() -> list[str]:
    from sim.compare import SHORTAGE_NATIONS, STAGES
    from sim.world import GOODS
    cols = [f"price_{g}_usd_per_kg" for g in GOODS]
    cols += [f"china_share_{s}" for s in STAGES] + [f"hhi_{s}" for s in STAGES]
    cols += ["shortage_t", "shortage_frac", "central_asia_mine_output_t", "usa_supply_china_share"]
    cols += [f"shortage_{iso}_t" for iso in SHORTAGE_NATIONS]
    return cols
