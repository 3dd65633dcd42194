"""The Simulate page: run controls, levers, shocks, KPI cards, live charts and downloads.

The parts that show run data (the month, the step time, the KPI cards, the charts) follow the frame
counters of :mod:`sim.ui.ticks` by subscription and are updated in place, so a month of Play
re-renders no component: the month, the KPIs and the price chart every month, the other charts and
the map every few months and whenever the run stops. Components re-render on a restart, a shock, an
undo or a change of the controls.
"""

from __future__ import annotations

from html import escape

import reacton.ipyvue
import solara

from sim.ui import charts
from sim.ui.history import history_prices
from sim.ui.levers import ADDABLE_KINDS, format_value, lever_names, parameter_table, slider_positions
from sim.ui.shock_editor import ShockEditor
from sim.ui.ticks import Ticks
from sim.ui.widgets import ChartDownloads, LiveChart, LiveHTML

SPEEDS = {"slow (2 months/s)": 0.5, "normal (5 months/s)": 0.2, "fast (as fast as possible)": 0.0}


@solara.component
def LeverSlider(name: str, value: float, on_value, disabled: bool):
    """One lever: its description, value with unit, a full-width slider over the table's range, its source.

    The slider moves over :func:`slider_positions` (an index), so the table's value sits exactly on it."""
    p = parameter_table()[name]
    with solara.Column(gap="0px", classes=["reesim-lever", f"reesim-lever-{name}"]):
        with solara.Row(justify="space-between", style={"align-items": "baseline"}):
            solara.Text(p.description, style={"font-size": "0.95em", "font-weight": "500"})
            solara.Text(format_value(value, p.unit), classes=["reesim-lever-value"],
                        style={"white-space": "nowrap", "font-weight": "600", "margin-left": "8px"})
        positions = slider_positions(name, value)
        slider = solara.v.Slider(v_model=positions.index(float(value)), min=0, max=len(positions) - 1, step=1,
                                 hide_details=True, disabled=disabled, class_="reesim-slider")
        # commit on "change" (mouse released, key pressed), not on every pixel of a drag
        reacton.ipyvue.use_event(slider, "change", lambda *args: on_value(positions[int(args[-1])]))
        solara.Text(f"{format_value(p.min, p.unit)} to {format_value(p.max, p.unit)}; {name}; source: {p.source}",
                    style={"font-size": "0.8em", "color": "#666"})


@solara.component
def LeversPanel(levers: solara.Reactive, session, busy: bool, scenarios: dict, on_upload):
    """Scenario picker (with descriptions, uploads), seed, and the table's levers."""
    lv = levers.value
    extra = solara.use_reactive(())
    upload_message = solara.use_reactive("")
    shown = list(dict.fromkeys([*lever_names(), *extra.value, *dict(lv.params)]))
    addable = [n for n in lever_names(ADDABLE_KINDS) if n not in shown]

    def on_file(info):
        upload_message.set(on_upload(info["name"], info["data"]))

    with solara.Card("Scenario and levers (restart the run)", classes=["reesim-levers"]):
        solara.Select("Scenario", values=list(scenarios), value=lv.scenario,
                      on_value=lambda v: levers.set(lv.with_(scenario=v)), disabled=busy,
                      classes=["reesim-scenario"])
        solara.Text(scenarios.get(lv.scenario, "")[:400], style={"font-size": "0.85em", "color": "#444"},
                    classes=["reesim-scenario-description"])
        solara.FileDrop(label="Or drop a scenario TOML file here", on_file=on_file, lazy=False)
        if upload_message.value:
            solara.Info(upload_message.value, dense=True, classes=["reesim-upload-message"])
        solara.InputInt("Seed", value=lv.seed, on_value=lambda v: levers.set(lv.with_(seed=int(v))),
                        disabled=busy, classes=["reesim-seed"])
        for name in shown:
            LeverSlider(name, lv.value(name), lambda v, name=name: levers.set(levers.value.with_param(name, v)),
                        False).key(name)
        solara.Select("Change another assumption", values=addable, value=None,
                      on_value=lambda v: extra.set((*extra.value, v)) if v else None)
        solara.Button("Back to the table's values", on_click=lambda: levers.set(lv.with_(params=())),
                      disabled=busy or not lv.params, text=True)


def run_status_html(session) -> str:
    model = session.model
    return escape(model.current_month() if model.steps else f"{model.spec.start} (not started)")


def step_time_html(session) -> str:
    return escape(f"{session.model.spec.name}, seed {session.levers.seed}; step {session.frame_ms:.0f} ms")


@solara.component
def RunStatus(session, ticks: Ticks):
    """The simulated month and the time the last step took: the only parts of the run card a month changes
    (updated in place, see :func:`LiveHTML`). While playing, the step time follows a lane (every 16th
    month): a number changing 15 times a second cannot be read, and each change is a message."""
    with solara.Column(gap="0px"):
        LiveHTML(ticks.month, lambda: run_status_html(session), classes=("reesim-month",),
                 style="font-size: 1.7em; font-weight: 600")
        LiveHTML(ticks.lane("china"), lambda: step_time_html(session), classes=("reesim-frame-ms",),
                 style="font-size: 0.85em")


@solara.component
def RunControls(session, ticks: Ticks, playing: solara.Reactive, speed: solara.Reactive, busy: bool, on_restart):
    _ = ticks.lane("map").value       # changes on every step when not playing: Play/Step follow the run's end
    model = session.model
    with solara.Card("Run", classes=["reesim-run"]):
        if busy or model is None:
            solara.Text("Starting the run…", classes=["reesim-busy"])
            solara.ProgressLinear(True)
            return
        RunStatus(session, ticks)
        with solara.Row(gap="4px"):
            if playing.value:
                solara.Button("Pause", icon_name="mdi-pause", color="primary", on_click=lambda: playing.set(False))
            else:
                solara.Button("Play", icon_name="mdi-play", color="primary", on_click=lambda: playing.set(True),
                              disabled=not session.running)

            def step_once():
                session.step()
                ticks.bump()
            solara.Button("Step", on_click=step_once, disabled=playing.value or not session.running)
            solara.Button("Reset", on_click=on_restart)
        solara.Select("Speed", values=list(SPEEDS), value=speed)


KPI_CSS = """
.reesim-kpis { display: flex; flex-wrap: wrap; gap: 8px; }
.reesim-kpi { flex: 1 1 170px; min-width: 170px; padding: 8px 10px; background: white; border-radius: 4px;
              box-shadow: 0 1px 3px rgba(0,0,0,0.2); font-size: 0.85em; color: #333; }
.reesim-kpi-label { color: #555; }
.reesim-kpi-value { font-size: 1.65em; font-weight: 600; color: #111; }
"""


def kpi_html(rows: list, shocked: bool) -> str:
    """The KPI cards as one piece of HTML: a month updates one widget, not thirty."""
    cards = []
    for k in rows:
        lines = [f'<div class="reesim-kpi-label">{escape(k.label)}</div>',
                 f'<div class="reesim-kpi-value">{escape(charts.fmt_number(k.value))} {escape(k.unit)}</div>',
                 f"<div>vs baseline {escape(charts.fmt_change(k.vs_baseline, k.unit))}</div>"]
        if shocked:
            lines.append(f"<div>since last shock {escape(charts.fmt_change(k.since_shock, k.unit))}</div>")
        cards.append('<div class="reesim-kpi">' + "".join(lines) + "</div>")
    return "".join(cards)


@solara.component
def KpiCards(session, ticks: Ticks, busy: bool):
    if busy or session.model is None or session.baseline is None:
        return
    LiveHTML(ticks.fast, lambda: kpi_html(session.kpis(), bool(session.last_shock_month)), classes=("reesim-kpis",))


@solara.component
def TimeChart(session, ticks: Ticks, live: bool, name: str, build, structure):
    """A live time chart with its downloads and a data table behind it (only the chart itself reads the
    frame counter). ``live``: follows every month (the price chart); otherwise its lane of ``ticks``."""

    def make():
        m = session.model
        return build(session.frame(), session.baseline, m.spec, charts.event_marks(m.spec, m.shock_log))

    key = (ticks.epoch.value, structure)      # read: a restart, shock or undo re-renders this chart
    # built once per structure: the widget's traces (x = the whole horizon) and the alt text's lines
    shown = solara.use_memo(lambda: charts.with_horizon_x(make(), session.model.spec.start, session.model.spec.end),
                            [key])

    def updates(widget):
        return charts.live_updates(session.column, widget), None

    tick = ticks.fast if live else ticks.lane(name)
    show_table = solara.use_reactive(False)
    with solara.Card(margin=0, style={"padding": "4px"}):
        LiveChart(lambda: shown, key, updates, tick, name, alt_text=lambda: charts.describe(shown, session.column),
                  alt_tick=ticks.lane("china") if live else None,   # the price chart's alt text: with the China chart
                  on_drawn=ticks.pacer.shown if live else None)
        with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
            ChartDownloads(make, f"{session.model.spec.name}_{name}", lambda: charts.chart_table(make(), 10**6))
            solara.Switch(label="data table", value=show_table, classes=[f"reesim-table-toggle-{name}"])
        if show_table.value:
            DataTable(session, tick, make, name)


@solara.component
def DataTable(session, tick: solara.Reactive, make, name: str):
    """The numbers behind a chart (last 24 months), refreshed with the chart while shown."""
    _ = tick.value
    with solara.Div(classes=[f"reesim-table-{name}"]):
        solara.DataFrame(charts.chart_table(make()), items_per_page=12)


@solara.component
def MapChart(session, ticks: Ticks):
    from sim.ui import trade_map

    def make():
        m = session.model
        w = m.world
        return trade_map.map_figure(m.last_flows, w.nations, w.lat, w.lon, m.current_month())

    def base():
        w = session.model.world
        return trade_map.map_base_figure(w.nations, w.lat, w.lon)

    def updates(widget):
        m = session.model
        w = m.world
        with session.lock:
            return trade_map.map_updates(m.last_flows, w.nations, w.lat, w.lon, m.current_month())

    with solara.Card(margin=0, style={"padding": "4px"}):
        LiveChart(base, ticks.epoch.value, updates, ticks.lane("map"), "map",
                  alt_text="World map of this month's largest trade flows; hover a flow's dot for its tonnage")
        ChartDownloads(make, "trade_map")


@solara.component
def ChartsPanel(session, ticks: Ticks, playing: solara.Reactive, busy: bool):
    elements = solara.use_reactive(list(charts.DEFAULT_ELEMENTS))
    log = solara.use_reactive(True)
    if session.model is None or session.baseline is None:
        solara.Text("The charts appear when the run has started.")
        return
    history = history_prices(session.levers.scenario)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}, gap="12px"):
        solara.SelectMultiple("Elements on the price chart", values=elements.value, all_values=list(charts.GOODS),
                              on_value=elements.set, classes=["reesim-elements"])
        solara.Switch(label="log price scale", value=log, classes=["reesim-log"])
        if history is not None:
            solara.Text("History mode: diamonds are recorded prices.", classes=["reesim-history-note"])
    els = tuple(elements.value)
    TimeChart(session, ticks, True, "prices",
              lambda f, b, s, m: charts.price_figure(f, b, s, m, els, log.value, history),
              (els, log.value, history is not None))
    with solara.ColumnsResponsive(12, large=6):
        TimeChart(session, ticks, False, "china", charts.china_figure, "china")
        TimeChart(session, ticks, False, "shortages", charts.shortage_figure, "shortages")
    with solara.ColumnsResponsive(12, large=6):
        TimeChart(session, ticks, False, "stockpiles", charts.stockpile_figure, "stockpiles")
        MapChart(session, ticks)


@solara.component
def RunDownloads(session, busy: bool):
    if busy or session.model is None:
        return
    name = f"{session.model.spec.name}_seed{session.levers.seed}"
    with solara.Card("Download this run", classes=["reesim-run-downloads"]):
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            solara.FileDownload(session.timeseries_csv, filename=f"{name}.csv", label="time series CSV",
                                mime_type="text/csv")
            solara.FileDownload(session.timeseries_parquet, filename=f"{name}.parquet", label="Parquet")
            solara.FileDownload(session.config_json, filename=f"{name}_config.json", label="config JSON",
                                mime_type="application/json")


@solara.component
def SimulatePage(session, levers, ticks: Ticks, playing, speed, busy: bool, problems: list, scenarios: dict,
                 on_restart, on_upload):
    for p in problems:
        solara.Warning(f"Ignored from the link: {p}", dense=True, classes=["reesim-url-problem"])
    with solara.ColumnsResponsive(12, large=[4, 8]):
        with solara.Column():
            RunControls(session, ticks, playing, speed, busy, on_restart)
            ShockEditor(session, lambda: ticks.bump(epoch=session.epoch), busy)
            LeversPanel(levers, session, busy, scenarios, on_upload)
            RunDownloads(session, busy)
        with solara.Column():
            KpiCards(session, ticks, busy)
            ChartsPanel(session, ticks, playing, busy)
