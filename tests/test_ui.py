"""UI without a browser: lever mapping, session behaviour, views, sweep page logic, app render."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.ui.state import SHOCKS, Levers, SimSession, lever_events


@pytest.fixture(scope="module")
def session() -> SimSession:
    return SimSession()


def test_default_levers_add_no_events():
    assert lever_events(Levers(), "2024-01", 50000.0) == []


def test_quota_lever_is_a_share_of_base_exports():
    (ev,) = lever_events(Levers(china_quota_pct=60), "2024-01", 50000.0)
    assert ev["type"] == "export_quota" and ev["nation"] == "CHN"
    assert ev["t_per_yr"] == pytest.approx(30000.0)


def test_repeal_and_investment_levers_start_in_the_repeal_year():
    evs = lever_events(Levers(jv_repeal=True, jv_repeal_year=2028, central_asia_invest_t_per_yr=4000),
                       "2024-01", 0.0)
    assert {e["type"] for e in evs} == {"trade_status", "investment_deal"}
    assert all(e["at"] == "2028-01" for e in evs)
    deals = [e for e in evs if e["type"] == "investment_deal"]
    assert sum(e["capacity_t_per_yr"] for e in deals) == pytest.approx(4000)


def test_every_lever_builds_a_valid_model():
    from sim.ui.state import build_model
    lv = Levers(china_quota_pct=50, licence_approval_pct=40, banned_elements=("Dy", "Tb"), us_tariff_pct=25,
                jv_repeal=True, central_asia_invest_t_per_yr=5000, stockpile_days_scale=2.0, ev_growth_scale=1.5)
    m = build_model(lv)
    assert {e.type for e in m.spec.events} >= {"export_quota", "export_licence", "export_ban", "import_tariff",
                                               "trade_status", "investment_deal"}
    m.step()
    assert m.current_month() == "2024-01"


def test_step_advances_the_month_and_redraws_every_view(session):
    session.step()
    before = dict(session.frame)
    start = session.month
    session.step()
    assert session.month > start
    assert set(session.frame) == {"prices", "china", "shortages", "stockpiles", "map"}
    assert all(session.frame[k] != before[k] for k in ("prices", "map"))
    assert all(v[:2] == b"\xff\xd8" for v in session.frame.values())   # JPEG


def test_shock_is_logged_from_the_next_month(session):
    month = session.month
    at = session.shock("myanmar_disruption")
    assert at > month
    assert session.model.shock_log[-1] == (at, SHOCKS["myanmar_disruption"].label)


def test_shock_adds_a_marker_to_every_time_chart():
    s = SimSession()
    s.step()
    s.shock("china_heavy_ban")
    s.step()
    d = s.dashboard
    for chart in (d.prices, d.china, d.shortages, d.stockpiles):
        marks = [ln for ax in chart.time_axes for ln in ax.get_lines() if ln.get_gid() == "shock"]
        assert len(marks) == len(chart.time_axes)


def test_reset_with_new_levers_starts_over(session):
    session.step()
    session.reset(Levers(seed=7))
    assert session.model.steps == 0 and session.levers.seed == 7
    assert session.model.shock_log == []


def test_two_sessions_do_not_share_a_model():
    a, b = SimSession(), SimSession()
    a.step()
    assert a.model is not b.model and b.model.steps == 0


def test_outlines_decode_to_lon_lat_rings():
    from sim.ui.trade_map import iso3_to_numeric, load_outlines
    o = load_outlines()
    assert len(set(o.codes)) > 170
    allpts = np.concatenate(o.rings)
    assert allpts[:, 1].min() >= -90 and allpts[:, 1].max() <= 90
    assert "156" in o.codes and iso3_to_numeric()["CHN"] == "156"


def test_top_flows_ignores_domestic_and_sorts():
    from sim.ui.trade_map import top_flows
    f = np.array([[9.0, 1.0, 3.0], [0.0, 9.0, 2.0], [0.0, 0.0, 9.0]])
    assert top_flows(f, 2) == [(0, 2, 3.0), (1, 2, 2.0)]


def test_ui_command_binds_localhost_in_production_mode():
    from sim.ui_command import ui_command_line, ui_environment
    cmd = ui_command_line()
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd
    assert cmd[cmd.index("--port") + 1] == "8765" and cmd[4].endswith("app.py")
    env = ui_environment({})
    repo_assets = Path(__file__).resolve().parents[1] / ".solara-assets"
    assert ("SOLARA_ASSETS_PROXY_CACHE_DIR" in env) == repo_assets.is_dir()


# --------------------------------------------------------------------------- sweep results page
def make_sweep(directory: Path) -> Path:
    """A small sweep folder made with the real model: 2 x 2 levers, 2 seeds, two years each."""
    from sim.model import RareEarthModel
    (directory / "runs").mkdir(parents=True)
    (directory / "series").mkdir()
    k = 0
    for ev in (1.0, 2.0):
        for days in (0.5, 3.0):
            for seed in (1, 2):
                m = RareEarthModel(seed=seed, until="2025-06", keep_flows=False, ev_growth_scale=ev,
                                   stockpile_days_scale=days)
                m.run()
                df = m.datacollector.get_model_vars_dataframe()
                key = f"run{k:03d}"
                pd.DataFrame([{"key": key, "ev_growth_scale": ev, "stockpile_days_scale": days, "seed": seed,
                               "mean_shortage_frac": float(df["shortage_frac"].mean()),
                               "peak_price_Dy_usd_per_kg": float(df["price_Dy_usd_per_kg"].max())}]
                             ).to_parquet(directory / "runs" / f"{key}.parquet")
                df[["date", "price_Nd_usd_per_kg", "shortage_t"]].to_parquet(directory / "series" / f"{key}.parquet")
                k += 1
    return directory


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep"))


def test_sweep_loader_separates_parameters_and_metrics(sweep_dir):
    from sim.ui.sweep_view import load_sweep
    sw = load_sweep(sweep_dir)
    assert set(sw.parameters) == {"ev_growth_scale", "stockpile_days_scale"}
    assert set(sw.metrics) == {"mean_shortage_frac", "peak_price_Dy_usd_per_kg"}
    assert len(sw.runs) == 8 and set(sw.series["key"]) == set(sw.runs["key"])


def test_fan_quantiles_are_ordered(sweep_dir):
    from sim.ui.sweep_view import fan_chart_png, fan_quantiles, load_sweep
    sw = load_sweep(sweep_dir)
    q = fan_quantiles(sw.series, "price_Nd_usd_per_kg")
    assert len(q) == 18 and (q[0.1] <= q[0.5]).all() and (q[0.5] <= q[0.9]).all()
    assert fan_chart_png(sw, "shortage_t", by="ev_growth_scale")[:4] == b"\x89PNG"


def test_heatmap_has_one_cell_per_parameter_pair(sweep_dir):
    from sim.ui.sweep_view import heatmap_png, heatmap_table, load_sweep
    sw = load_sweep(sweep_dir)
    t = heatmap_table(sw.runs, "mean_shortage_frac", "ev_growth_scale", "stockpile_days_scale")
    assert t.shape == (2, 2) and np.isfinite(t.to_numpy()).all()
    assert heatmap_png(sw, "mean_shortage_frac", "ev_growth_scale", "stockpile_days_scale")[:4] == b"\x89PNG"


def test_missing_sweep_folder_is_a_clear_error(tmp_path):
    from sim.ui.sweep_view import load_sweep
    with pytest.raises(FileNotFoundError, match="runs/"):
        load_sweep(tmp_path)


# --------------------------------------------------------------------------- compare page
def test_compare_difference_of_a_run_with_itself_is_zero():
    from sim.ui.compare import difference_png, headline_table, run_levers
    a = run_levers(Levers(seed=3), "2024-12")
    b = run_levers(Levers(seed=3), "2024-12")
    t = headline_table(a, b)
    assert np.allclose(t["B - A"], 0.0)
    assert difference_png(a, b, "A", "B")[:4] == b"\x89PNG"


def test_compare_shows_a_ban_raising_dysprosium_prices():
    from sim.ui.compare import run_levers
    a = run_levers(Levers(seed=3), "2025-12")
    b = run_levers(Levers(seed=3, banned_elements=("Dy", "Tb")), "2025-12")
    assert b["price_Dy_usd_per_kg"].iloc[-1] > a["price_Dy_usd_per_kg"].iloc[-1]


# --------------------------------------------------------------------------- components
def _month(rc):
    import ipyvuetify as v
    return [w.children[0] for w in rc.find(v.Html).widgets if "reesim-month" in (w.class_ or "")][0]


def test_page_renders_steps_and_marks_a_shock():
    import ipyvuetify as v
    import ipywidgets as w
    import solara
    from sim.ui.app import Page
    box, rc = solara.render(Page(), handle_error=False)
    assert _month(rc) == "2024-01 (not started)"
    def price():
        return [x for x in rc.find(w.Image).widgets if "reesim-prices" in x._dom_classes][0].value

    before = price()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert _month(rc) == "2024-01"
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert _month(rc) == "2024-02"
    assert price() != before
    rc.find(v.Btn, children=[SHOCKS["china_heavy_ban"].label]).widget.click()
    assert "in force from 2024-03" in rc.find(v.Alert).widget.children[0]
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert _month(rc) == "2024-01 (not started)"
