"""UI without a browser: levers and the URL, confinement, a session's run, shocks, undo, exports,
history mode, event labels, sweep results on a real run_sweep output, static figures, reesim ui."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import ConfigError
from sim.parameters import load_parameter_table
from sim.ui import charts
from sim.ui.levers import Levers, lever_names, levers_from_query, slider_positions
from sim.ui.state import RefusedInput, SimSession, baseline_frame, parse_upload, resolve_scenario

REPO = Path(__file__).resolve().parents[1]
DY_BAN = {"type": "export_ban", "nation": "CHN", "elements": ["Dy", "Tb"], "to_bloc": ["us_allied"]}
MMR = {"type": "supply_disruption", "nation": "MMR", "lost_frac": 0.9, "stage": "mining"}


def started(levers: Levers = Levers()) -> SimSession:
    s = SimSession()
    s.reset(levers)
    return s


# ---------------------------------------------------------------- levers and the URL
def test_levers_round_trip_through_the_url():
    lv = Levers(scenario="china_full_ban", seed=7).with_param("ev_growth_scale", 1.7)
    back, problems = levers_from_query(lv.to_query())
    assert problems == [] and back == lv


@pytest.mark.parametrize("query, key", [
    ("scenario=../../pyproject", "scenario"), ("scenario=/etc/passwd", "scenario"),
    ("seed=abc", "seed"), ("ev_growth_scale=99", "ev_growth_scale"), ("ev_growth_scale=nan", "ev_growth_scale"),
    ("not_a_lever=1", "not_a_lever"),
])
def test_a_forged_url_is_refused_part_by_part(query, key):
    lv, problems = levers_from_query(f"seed=3&{query}")
    assert len(problems) == 1 and problems[0].lstrip("'").startswith(key)
    assert lv.scenario == "baseline" and lv.params == ()
    assert "/work" not in problems[0]


def test_every_lever_slider_covers_the_table_range_and_holds_its_value_exactly():
    table = load_parameter_table()
    names = lever_names()
    assert names and all(table[n].kind == "lever" for n in names)
    for name in names:
        p = table[name]
        pos = slider_positions(name)
        assert pos[0] == pytest.approx(p.min) and pos[-1] == pytest.approx(p.max)
        assert p.value in pos and pos == sorted(pos) and len(pos) >= 20


# ---------------------------------------------------------------- confinement
@pytest.mark.parametrize("name", ["../../pyproject", str(REPO / "configs/scenarios/baseline.toml"),
                                  "configs/scenarios/baseline", "baseline.toml"])
def test_only_shipped_or_uploaded_scenarios_are_loaded(name):
    with pytest.raises(RefusedInput, match="not a shipped scenario"):
        resolve_scenario(name)


def test_an_upload_is_validated_and_may_not_point_outside_the_shipped_worlds():
    good = (REPO / "configs/scenarios/china_full_ban.toml").read_bytes()
    name, spec = parse_upload("my ban.toml", good)
    assert name.startswith("upload: ") and spec.events
    bad = b'name = "x"\nworld = "../../tmp"\nstart = "2024-01"\nend = "2025-12"\n'
    with pytest.raises(ConfigError, match="world") as err:
        parse_upload("evil.toml", bad)
    assert "allowed" in str(err.value) and "/work" not in str(err.value)
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_upload("broken.toml", b"name = ")


# ---------------------------------------------------------------- session, shocks, undo
@pytest.fixture(scope="module")
def session():
    return started()


def test_baseline_is_one_real_run_over_the_whole_horizon_cached_per_scenario_and_seed(session):
    b = session.baseline
    assert b["date"].iloc[0] == session.model.spec.start and b["date"].iloc[-1] == session.model.spec.end
    assert baseline_frame("baseline", 1) is b
    fresh = started().frame()
    assert len(fresh) == 0
    from sim.model import RareEarthModel
    m = RareEarthModel("baseline", seed=1, until="2024-12")
    m.run()
    direct = m.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    pd.testing.assert_frame_equal(b.iloc[:12].reset_index(drop=True), direct, check_dtype=False)


def test_a_bad_custom_shock_is_refused_with_its_key_path_and_changes_nothing():
    s = started()
    s.step(3)
    before = (s.model.steps, list(s.model.shock_log), s.epoch)
    for bad, key in (({**MMR, "lost_frac": 2}, "lost_frac"), ({**MMR, "nation": "XXX"}, "nation"),
                     ({**MMR, "lost_frac": "lots"}, "lost_frac"), ({"type": "nope"}, "type"),
                     ({**DY_BAN, "to_bloc": ["us_allies"]}, "to_bloc")):
        with pytest.raises(ConfigError) as err:
            s.shock(bad)
        assert key in err.value.key_path, err.value
    assert (s.model.steps, list(s.model.shock_log), s.epoch) == before and s.shocks == []


def test_shock_editor_offers_only_china_for_a_china_only_event():
    """A field the schema restricts offers its allowed values (the China-only crackdown: China), others every nation."""
    from sim.policy_events import EVENT_ADAPTER
    from sim.ui.shock_editor import event_classes, field_choices
    from sim.world import load_world
    world = load_world(REPO / "configs" / "world")
    kind, nations = field_choices("nation", event_classes()["illegal_mining_crackdown"].model_fields["nation"].annotation,
                                  world)
    assert (kind, nations) == ("one", ("CHN",))
    assert len(field_choices("nation", event_classes()["supply_disruption"].model_fields["nation"].annotation,
                             world)[1]) == len(world.nations)
    EVENT_ADAPTER.validate_python({"type": "illegal_mining_crackdown", "at": "2025-01", "nation": nations[0],
                                   "cut_frac": 0.5})


def test_undo_gives_the_run_without_the_last_shock():
    a = started()
    a.step(4)
    a.shock(DY_BAN, "ban")
    a.step(4)
    a.shock(MMR, "myanmar")
    a.step(3)
    assert [s.label for s in a.shocks] == ["ban", "myanmar"]
    undone = a.undo()
    assert undone.label == "myanmar" and [s.label for s in a.shocks] == ["ban"]
    b = started()
    b.step(4)
    b.shock(DY_BAN, "ban")
    b.step(7)
    pd.testing.assert_frame_equal(a.frame(), b.frame())
    assert a.model.shock_log == b.model.shock_log


def test_saved_scenario_toml_is_a_valid_scenario_with_the_shocks_and_levers():
    from sim.scenarios import scenario_from_dict
    s = started(Levers(seed=3).with_param("stockpile_days_scale", 2.0))
    s.step(2)
    s.shock(MMR, "myanmar")
    text = s.scenario_toml()
    spec = scenario_from_dict(tomllib.loads(text))
    assert spec.parameters["stockpile_days_scale"] == 2.0
    assert any(e.type == "supply_disruption" and e.at == "2024-03" for e in spec.events)
    assert "--seed 3" in text


def test_downloads_hold_the_run_and_no_server_path(session):
    session.step(5)
    frame = session.frame()
    csv = pd.read_csv(io.BytesIO(session.timeseries_csv()))
    assert list(csv["date"]) == list(frame["date"])
    assert np.allclose(csv["price_Dy_usd_per_kg"], frame["price_Dy_usd_per_kg"], rtol=1e-12)
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(session.timeseries_parquet())), frame)
    cfg = session.config_json().decode()
    assert str(REPO) not in cfg and json.loads(cfg)["levers"]["seed"] == 1


# ---------------------------------------------------------------- charts
def test_history_mode_draws_recorded_prices_for_the_2010_replay_only():
    from sim.ui.history import history_prices
    h = history_prices("china_2010_quota")
    assert h is not None and h["date"].str.match(r"^\d{4}-\d{2}$").all()
    assert history_prices("baseline") is None
    s = started(Levers(scenario="china_2010_quota"))
    s.step(2)
    marks = charts.event_marks(s.model.spec, s.model.shock_log)
    fig = charts.price_figure(s.frame(), s.baseline, s.model.spec, marks, ("Dy", "Nd"), True, h)
    recorded = [tr for tr in fig.data if tr.name.endswith("recorded")]
    dy = h[(h["element"] == "Dy") & ~h["inside_china"]]
    assert {tr.name for tr in recorded} == {"Dy recorded", "Nd recorded"}
    assert list(next(tr for tr in recorded if tr.name == "Dy recorded").y) == list(dy["price_usd_per_kg"])


def test_event_labels_never_overlap():
    s = started(Levers(scenario="china_2010_quota"))
    spec = s.model.spec
    marks = charts.event_marks(spec, [("2010-02", "custom shock one"), ("2010-03", "custom shock two")])
    rows = charts.label_rows(marks, spec.start, spec.end)
    from sim.calendar import month_index
    span = month_index(spec.end) - month_index(spec.start)
    for row in set(r for r in rows if r is not None):
        placed = [(month_index(m.month), len(m.label[:charts.LABEL_CHARS])) for m, r in zip(marks, rows) if r == row]
        for (x0, n0), (x1, _) in zip(placed, placed[1:]):
            assert x1 - x0 >= (n0 + 1) * charts.CHAR_FRAC * span
    assert sum(m.shock for m in marks) == 2 and len(marks) > 5


def test_every_chart_exports_png_and_svg_of_the_same_data():
    from sim.static_figures import render
    from sim.ui import trade_map
    session = started()                 # its own session: the shared one's months depend on the tests before
    session.step(5)
    m = session.model
    marks = charts.event_marks(m.spec, m.shock_log)
    figs = [charts.price_figure(session.frame(), session.baseline, m.spec, marks),
            charts.china_figure(session.frame(), session.baseline, m.spec, marks),
            trade_map.map_figure(m.last_flows, m.world.nations, m.world.lat, m.world.lon, m.current_month())]
    for fig in figs:
        assert render(fig, "png")[:4] == b"\x89PNG"
        assert b"<svg" in render(fig, "svg")[:400]
    table = charts.chart_table(figs[0])
    assert table["month"].iloc[-1] == m.current_month()
    assert table["Dy"].iloc[-1] == pytest.approx(session.frame()["price_Dy_usd_per_kg"].iloc[-1], rel=1e-3)


def test_kpis_compare_with_the_baseline_and_the_last_shock():
    s = started()
    s.step(3)
    s.shock(DY_BAN, "ban")
    s.step(6)
    k = {x.label: x for x in charts.kpis(s.frame(), s.baseline, s.last_shock_month)}
    dy = k["Dy oxide outside China"]
    f = s.frame()
    assert dy.value == pytest.approx(f["price_Dy_usd_per_kg"].iloc[-1])
    assert dy.vs_baseline == pytest.approx(dy.value - s.baseline["price_Dy_usd_per_kg"].iloc[8])
    assert dy.since_shock == pytest.approx(dy.value - f["price_Dy_usd_per_kg"].iloc[2])
    assert s.kpis() == charts.kpis(f, s.baseline, s.last_shock_month)   # read from the collector's columns


# ---------------------------------------------------------------- frames of Play
def test_a_live_line_has_the_horizon_as_x_and_a_frame_sends_only_its_y():
    s = started()
    m = s.model
    fig = charts.with_horizon_x(charts.price_figure(s.frame(), s.baseline, m.spec, []), m.spec.start, m.spec.end)
    live = [tr for tr in fig.data if tr.meta]
    assert live and all(len(tr.x) == len(s.baseline) and tr.x[0] == f"{m.spec.start}-01" for tr in live)
    # before the first month a live line is one missing value (Plotly hides an empty line and its legend entry)
    assert all(len(tr.y) == 1 and np.isnan(tr.y[0]) for tr in live)
    assert all(len(u["y"]) == 1 and np.isnan(u["y"][0]) for u in charts.live_updates(s.column, fig).values())
    assert "not started" in charts.describe(fig, s.column)
    s.step(5)
    updates = charts.live_updates(s.column, fig)
    assert {k for u in updates.values() for k in u} == {"y"}
    dy = updates["live:price_Dy_usd_per_kg"]["y"]
    np.testing.assert_array_equal(dy, s.frame()["price_Dy_usd_per_kg"].to_numpy(dtype=float))
    from sim.ui.trade_map import apply_updates
    apply_updates(fig, updates)
    table = charts.chart_table(fig)
    assert table["month"].iloc[-1] == m.current_month() and len(table) == 5
    assert f"Dy {dy[-1]:.4g} in {m.current_month()}" in charts.describe(fig, s.column)


def test_a_frame_is_one_small_message_with_the_live_lines_y_as_binary():
    """What a chart on the page receives: the figure once, then per frame each live line's y (the run's
    own column) as a binary buffer, and nothing for the baseline lines."""
    import json

    from sim.ui.live_plot import LivePlot
    from sim.ui.ticks import Pacer
    s = started()
    m = s.model
    fig = charts.with_horizon_x(charts.price_figure(s.frame(), s.baseline, m.spec, []), m.spec.start, m.spec.end)
    plot = LivePlot()
    sent = []
    plot.send = lambda content, buffers=None: sent.append((content, buffers))
    plot.show(fig)
    assert [tr.get("meta") for tr in json.loads(plot.figure_json)["data"]] == [tr.meta for tr in fig.data]
    s.step(5)
    plot.update(charts.live_updates(s.column, fig), {"title.text": "Prices"}, ack=True)
    [(content, buffers)] = sent
    assert content["ack"] and content["layout"] == {"title.text": "Prices"}
    live = [i for i, tr in enumerate(fig.data) if tr.meta]
    assert sorted(i for i, _ in content["traces"]) == live and len(buffers) == len(live)
    for i, props in content["traces"]:
        y = np.frombuffer(buffers[props["y"]["buffer"]], dtype=np.float64)
        np.testing.assert_array_equal(y, s.frame()[fig.data[i].meta[len(charts.LIVE):]].to_numpy(dtype=float))
    assert len(json.dumps(content)) < 500                  # the values travel as buffers, not as JSON text
    pacer = Pacer()
    for _ in range(3):
        pacer.sent()
    plot.on_drawn = pacer.shown
    plot._from_page(plot, {"drawn": 2}, [])                # one update drawn in place of two
    assert pacer._in_flight == 1


def test_a_month_of_play_moves_at_most_one_secondary_chart_and_every_chart_when_stopped():
    import solara

    from sim.ui.ticks import LANES, Pacer, Ticks
    ticks = Ticks(solara.reactive(0), tuple(solara.reactive(0) for _ in LANES), Pacer(), solara.reactive(0),
                  solara.reactive(0))
    changes = {name: 0 for name in LANES}
    for n in range(1, 33):
        before = [lane.value for lane in ticks.lanes]
        ticks.bump(playing=True)
        moved = [name for name, b, lane in zip(LANES, before, ticks.lanes) if lane.value != b]
        assert ticks.fast.value == ticks.month.value == n and len(moved) <= 1
        for name in moved:
            changes[name] += 1
    assert changes == {name: 32 // period for name, (period, _) in LANES.items()}
    ticks.bump(playing=True)
    ticks.catch_up()
    assert all(lane.value == ticks.fast.value for lane in ticks.lanes)
    ticks.bump()
    assert all(lane.value == ticks.fast.value == 34 for lane in ticks.lanes)


def test_play_keeps_its_period_from_the_schedule(monkeypatch):
    """Months start one period apart whatever each frame's work took (below the period); a late month is
    made up by the next one, no more. A fake clock: this checks the schedule, not the machine's speed."""
    from sim.ui import ticks

    class Clock:
        now = 0.0

        def perf_counter(self):
            return self.now

        def sleep(self, seconds):
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(ticks, "time", clock)
    pacer = ticks.Pacer(min_gap_s=0.0)
    pacer.start()
    starts = []
    for work in (0.05, 0.15, 0.05, 0.30, 0.05, 0.05, 0.05, 0.05):
        starts.append(clock.now)
        clock.now += work
        pacer.wait(0.2)                     # nothing sent: the page has nothing to draw
    assert np.diff(starts[:4]) == pytest.approx([0.2, 0.2, 0.2])
    assert starts[4] == pytest.approx(0.9)  # the 0.3 s month ran late (0.9, not 0.8) ...
    assert starts[5] == pytest.approx(1.0)  # ... and the next one started on time again
    assert np.diff(starts[5:]) == pytest.approx([0.2, 0.2])


def test_play_waits_for_the_page_with_two_months_in_flight():
    from sim.ui.ticks import IN_FLIGHT, Pacer
    pacer = Pacer(min_gap_s=0.0)
    for _ in range(IN_FLIGHT):
        pacer.sent()
    pacer.shown()
    pacer.wait(0.0)                         # one month drawn: one still in flight, go on
    assert pacer._in_flight == IN_FLIGHT - 1
    pacer.sent()
    pacer.wait(0.0)                         # two in flight and no answer: waits, then gives up on the page
    assert pacer._in_flight == 0


# ---------------------------------------------------------------- sweep results (real run_sweep output)
@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory):
    from sim.sweep import run_sweep
    root = tmp_path_factory.mktemp("results")
    run_sweep(REPO / "configs/sweeps/smoke.toml", root / "smoke", workers=0, progress=False)
    return root


def test_sweep_page_reads_a_real_smoke_sweep_by_its_spec(smoke_sweep):
    from sim.sweep_results import fan_bands, heatmap_table, list_sweeps, open_sweep
    assert list_sweeps(smoke_sweep) == ["smoke"]
    out = open_sweep(smoke_sweep / "smoke")
    assert out.parameters == ("china_export_quota_t_per_yr", "demand_price_elasticity")
    assert out.metrics[0] == "peak_price_Dy_usd_per_kg" and "seed" not in out.metrics
    assert len(out.runs) == 16 and out.failed.empty
    bands = fan_bands(out.series, "price_Dy_usd_per_kg")
    q = bands[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (np.diff(q, axis=1) >= -1e-9).all() and set(bands["n"]) == {16}
    h = out.heatmaps[0]
    table = heatmap_table(out.runs, h["x"], h["y"], h["metric"])
    assert table.shape == (2, 4)
    cell = out.runs[(out.runs[h["x"]] == 10000) & (out.runs[h["y"]] == -0.3)][h["metric"]].mean()
    assert table.loc[-0.3, 10000] == pytest.approx(cell)
    # the example heatmap shows something: a tighter quota lifts the magnet price peak at either elasticity
    assert h["metric"] == "peak_price_NdFeB_usd_per_kg"
    assert (table[10000] > 1.2 * table[100000]).all(), table


def test_failed_runs_are_shown_apart(tmp_path):
    """A real sweep in which the model refuses one value: those runs are listed apart, not drawn."""
    from sim.sweep import run_sweep
    from sim.sweep_results import heatmap_table, open_sweep
    spec = tmp_path / "refuse.toml"
    spec.write_text('name = "refuse"\nscenario = "baseline"\nuntil = "2024-03"\ndesign = "grid"\n'
                    'replicates = 2\nseed = 1\ncheck_ranges = false\n'
                    '[parameters.logit_beta]\nvalues = [6.0, 1000.0]\n'
                    '[parameters.ev_growth_scale]\nvalues = [1.0, 2.0]\n'
                    '[metrics]\npeak_dy = { column = "price_Dy_usd_per_kg", stat = "max" }\n')
    run_sweep(spec, tmp_path / "out", workers=0, progress=False, plots=False)
    out = open_sweep(tmp_path / "out")
    assert len(out.runs) == 4 and len(out.failed) == 4
    assert (out.failed["logit_beta"] == 1000.0).all() and out.failed["error"].str.contains("logit_beta").all()
    table = heatmap_table(out.runs, "logit_beta", "ev_growth_scale", "peak_dy")
    assert list(table.columns) == [6.0]


def test_sweep_names_outside_the_results_root_are_refused(smoke_sweep, monkeypatch):
    from sim.ui import sweep_view
    monkeypatch.setenv("REESIM_RESULTS_ROOT", str(smoke_sweep))
    out, problem = sweep_view.load("smoke")
    assert problem is None and out.name == "smoke"
    for forged in ("../smoke", str(smoke_sweep / "smoke"), "/etc", "smoke/../smoke"):
        out, problem = sweep_view.load(forged)
        assert out is None and "not a sweep" in problem and str(smoke_sweep) not in problem


def test_cli_sweep_figures_come_from_the_shared_module(smoke_sweep):
    figures = sorted(p.name for p in (smoke_sweep / "smoke").glob("*.png"))
    assert figures == ["fan_price_NdFeB_usd_per_kg.png", "fan_shortage_USA_t.png",
                       "heatmap_peak_price_NdFeB_usd_per_kg__china_export_quota_t_per_yr__demand_price_elasticity.png"]
    import sim.sweep as sweep
    from sim import sweep_results
    assert sweep.read_runs.__doc__ and "sweep_results" in sweep.read_runs.__doc__
    fig = sweep.heatmap(sweep_results.read_runs(smoke_sweep / "smoke"), "china_export_quota_t_per_yr",
                        "demand_price_elasticity", "peak_price_NdFeB_usd_per_kg")
    assert fig.data[0].type == "heatmap"


# ---------------------------------------------------------------- the app and reesim ui
def test_every_component_follows_solara_hook_rules():
    import solara.validate_hooks as vh
    from sim.ui import app, compare, shock_editor, simulate, sweep_view, widgets
    found = 0
    for mod in (app, compare, shock_editor, simulate, sweep_view, widgets):
        for obj in vars(mod).values():
            f = getattr(obj, "f", None)
            if callable(f) and getattr(f, "__module__", "") == mod.__name__:
                vh.HookValidator(f).run()
                found += 1
    assert found >= 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_reesim_ui_stops_its_server_on_sigterm():
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", "from sim.cli import app; app()", "ui", "--port", str(port)],
                            cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
        while not _listening(port):
            assert time.time() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "error:" not in err, (proc.returncode, err[-500:])   # a stop asked for
        deadline = time.time() + 10
        while _listening(port) and time.time() < deadline:
            time.sleep(0.2)
        assert not _listening(port), "the solara child still serves the port"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_compare_bands_cover_five_seeds_and_the_table_reads_them():
    from sim.ui.compare import SEEDS, band_figure, headline_table, run_seeds
    a = run_seeds(Levers(seed=3), "2024-06")
    b = run_seeds(Levers(scenario="china_full_ban", seed=3), "2024-06")
    assert sorted(a["seed"].unique()) == [3, 4, 5, 6, 7] and SEEDS == 5
    fig = band_figure(a, b, "baseline", "ban", "price_Dy_usd_per_kg", 3)
    assert any(tr.name == "B: ban, seed 3" for tr in fig.data)
    table = headline_table(a, b).set_index("outcome (mean over the run)")
    dy_a = a.groupby("seed")["price_Dy_usd_per_kg"].mean().median()
    assert table.loc["price_Dy_usd_per_kg", "A median"] == pytest.approx(dy_a, rel=1e-2)
    assert all(v == float(f"{v:.3g}") for v in table["A median"])   # 3 significant digits, not 16


def test_reesim_ui_binds_to_localhost_unless_told():
    from sim.ui_command import ui_command_line
    line = ui_command_line()
    assert line[line.index("--host") + 1] == "127.0.0.1"
