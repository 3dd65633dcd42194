"""reesim's Solara app: Simulate, Compare and Sweep results pages.

Run with ``reesim ui`` or ``solara run sim/ui/app.py``. Each browser session gets its
own model (:class:`sim.ui.state.SimSession`, built with ``solara.use_memo`` inside
``Page``); nothing is shared between sessions at module level.
"""

from __future__ import annotations

import time
from pathlib import Path

import solara
import solara.lab

from sim.ui.state import HEAVY_REE, SHOCKS, Levers, SimSession

ELEMENT_CHOICES = ["La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Y", "NdFeB"]
BAN_CHOICES = ["La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Y"]
SPEEDS = {"slow (2 months/s)": 0.5, "normal (5 months/s)": 0.2, "fast (as fast as possible)": 0.0}
VIEW_TITLES = {"prices": "Prices by element", "china": "China's share and concentration",
               "shortages": "Shortages", "stockpiles": "Stockpiles", "map": "Trade flows this month"}


def scenario_names() -> list[str]:
    from sim.scenarios import list_scenarios
    return [name for name, _ in list_scenarios()]


def month_label(session: SimSession) -> str:
    """What the month display says: the last simulated month, or where the run will start."""
    if session.model.steps == 0:
        return f"{session.model.spec.start} (not started)"
    return session.month


@solara.component
def LeverControls(levers: solara.Reactive, on_change):
    """Scenario picker and policy levers; every change restarts the run with the new setting."""
    lv: Levers = levers.value

    def set_(**kw):
        on_change(lv.with_(**kw))

    solara.Select("Scenario", values=scenario_names(), value=lv.scenario, on_value=lambda v: set_(scenario=v))
    solara.InputInt("Seed", value=lv.seed, on_value=lambda v: set_(seed=int(v)))
    solara.SliderInt("China export quota (% of base exports; 100 = none)", value=lv.china_quota_pct,
                     min=10, max=100, step=5, on_value=lambda v: set_(china_quota_pct=v))
    solara.SliderInt("Licence approval share for heavy REE (%; 100 = none)", value=lv.licence_approval_pct,
                     min=0, max=100, step=5, on_value=lambda v: set_(licence_approval_pct=v))
    solara.SelectMultiple("China bans exports to US allies of", values=list(lv.banned_elements),
                          all_values=BAN_CHOICES, on_value=lambda v: set_(banned_elements=tuple(v)))
    solara.SliderInt("US tariff on China (%)", value=lv.us_tariff_pct, min=0, max=200, step=5,
                     on_value=lambda v: set_(us_tariff_pct=v))
    solara.Checkbox(label="Repeal Jackson-Vanik for Central Asia", value=lv.jv_repeal,
                    on_value=lambda v: set_(jv_repeal=v))
    solara.SliderInt("Repeal year", value=lv.jv_repeal_year, min=2024, max=2040,
                     on_value=lambda v: set_(jv_repeal_year=v), disabled=not lv.jv_repeal)
    solara.SliderInt("Central Asia investment (t REO/yr of new mines)", value=lv.central_asia_invest_t_per_yr,
                     min=0, max=20000, step=1000, on_value=lambda v: set_(central_asia_invest_t_per_yr=v))
    solara.SliderFloat("Stockpile days of cover (x table)", value=lv.stockpile_days_scale, min=0.0, max=5.0,
                       step=0.25, on_value=lambda v: set_(stockpile_days_scale=v))
    solara.SliderFloat("EV demand growth (x IEA)", value=lv.ev_growth_scale, min=0.0, max=3.0, step=0.1,
                       on_value=lambda v: set_(ev_growth_scale=v))


@solara.component
def SimulatePage(session: SimSession, version: solara.Reactive, playing: solara.Reactive,
                 speed: solara.Reactive, levers: solara.Reactive, message: solara.Reactive):
    _ = version.value   # re-render on every frame

    def bump():
        version.value += 1

    def reset(new_levers: Levers | None = None):
        playing.value = False
        with session.lock:
            session.reset(new_levers)
        if new_levers is not None:
            levers.value = new_levers
        message.value = ""
        bump()

    def step_once():
        session.step()
        bump()

    def shock(key: str):
        at = session.shock(key)
        message.value = f"{SHOCKS[key].label}: in force from {at}"
        bump()

    elements = solara.use_reactive(list(session.elements))

    def set_elements(v):
        elements.value = list(v)
        session.set_elements(v)
        bump()

    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Run"):
                solara.Text(month_label(session), classes=["reesim-month"],
                            style={"font-size": "1.7em", "font-weight": "600"})
                solara.Text(f"frame {session.frame_ms:.0f} ms", classes=["reesim-frame-ms"])
                with solara.Row():
                    if playing.value:
                        solara.Button("Pause", icon_name="mdi-pause", color="primary",
                                      on_click=lambda: playing.set(False))
                    else:
                        solara.Button("Play", icon_name="mdi-play", color="primary",
                                      on_click=lambda: playing.set(True), disabled=not session.running)
                    solara.Button("Step", on_click=step_once, disabled=playing.value or not session.running)
                    solara.Button("Reset", on_click=lambda: reset(None))
                solara.Select("Speed", values=list(SPEEDS), value=speed.value, on_value=speed.set)
            with solara.Card("Inject a shock (from next month)"):
                for key, s in SHOCKS.items():
                    solara.Button(s.label, on_click=lambda key=key: shock(key), color="warning",
                                  outlined=True, style={"margin": "2px", "text-transform": "none"})
                if message.value:
                    solara.Info(message.value, dense=True)
                if session.model.shock_log:
                    solara.Text("; ".join(f"{m} {lab}" for m, lab in session.model.shock_log))
            with solara.Card("Policy levers (restart the run)"):
                LeverControls(levers, reset)
        with solara.Column():
            solara.SelectMultiple("Elements on the price chart", values=elements.value,
                                  all_values=ELEMENT_CHOICES, on_value=set_elements)
            frame = session.frame
            with solara.Columns([1, 1]):
                for view in ("prices", "china"):
                    with solara.Card(VIEW_TITLES[view], margin=0):
                        solara.Image(frame[view], format="jpeg", width="100%", classes=[f"reesim-{view}"])
            with solara.Columns([1, 1]):
                for view in ("shortages", "stockpiles"):
                    with solara.Card(VIEW_TITLES[view], margin=0):
                        solara.Image(frame[view], format="jpeg", width="100%", classes=[f"reesim-{view}"])
            with solara.Card(VIEW_TITLES["map"], margin=0):
                solara.Image(frame["map"], format="jpeg", width="100%", classes=["reesim-map"])


@solara.component
def ComparePage(levers: solara.Reactive, result: solara.Reactive):
    from sim.ui import compare
    names = scenario_names()
    scen_a = solara.use_reactive(names[0])
    scen_b = solara.use_reactive(names[0])
    levers_a = solara.use_reactive(False)
    levers_b = solara.use_reactive(True)
    until = solara.use_reactive("2035")
    progress = solara.use_reactive(0.0)

    def side(scenario: str, with_levers: bool) -> Levers:
        base = levers.value.with_(scenario=scenario) if with_levers else Levers(scenario=scenario, seed=levers.value.seed)
        return base

    def label(scenario: str, with_levers: bool) -> str:
        return f"{scenario} + Simulate levers" if with_levers else scenario

    @solara.lab.task
    def run_pair():
        la, lb = side(scen_a.value, levers_a.value), side(scen_b.value, levers_b.value)
        end = f"{until.value}-12"
        a = compare.run_levers(la, end, lambda f: progress.set(f / 2))
        b = compare.run_levers(lb, end, lambda f: progress.set(0.5 + f / 2))
        na, nb = label(scen_a.value, levers_a.value), label(scen_b.value, levers_b.value)
        result.value = {"side": compare.side_by_side_png(a, b, na, nb),
                        "diff": compare.difference_png(a, b, na, nb),
                        "table": compare.headline_table(a, b), "labels": (na, nb)}
        progress.value = 1.0

    with solara.Card("Compare two scenarios (same seed)"):
        with solara.Row():
            with solara.Column():
                solara.Select("Scenario A", values=names, value=scen_a)
                solara.Checkbox(label="A uses the Simulate page's levers", value=levers_a)
            with solara.Column():
                solara.Select("Scenario B", values=names, value=scen_b)
                solara.Checkbox(label="B uses the Simulate page's levers", value=levers_b)
            solara.Select("Run to the end of", values=["2028", "2030", "2035", "2040", "2050"], value=until)
        solara.Text(f"Seed {levers.value.seed} for both runs (set on the Simulate page).")
        solara.Button("Run both", color="primary", on_click=run_pair, disabled=run_pair.pending)
        if run_pair.pending:
            solara.ProgressLinear(value=progress.value * 100)
        if run_pair.error:
            solara.Error(f"comparison failed: {run_pair.exception}")
    res = result.value
    if res:
        solara.Image(res["side"], width="100%", classes=["reesim-compare-side"])
        solara.Image(res["diff"], width="100%", classes=["reesim-compare-diff"])
        solara.DataFrame(res["table"])


@solara.component
def SweepPage(directory: solara.Reactive):
    from sim.ui import sweep_view
    sweep_state = solara.use_reactive(None)
    error = solara.use_reactive("")
    column = solara.use_reactive(None)
    by = solara.use_reactive("(none)")
    outcome = solara.use_reactive(None)
    px = solara.use_reactive(None)
    py = solara.use_reactive(None)

    def open_dir():
        try:
            sw = sweep_view.load_sweep(directory.value)
        except Exception as e:  # shown to the user, not raised
            error.value = f"{type(e).__name__}: {e}"
            sweep_state.value = None
            return
        error.value = ""
        sweep_state.value = sw
        column.value = sw.series_columns[0] if sw.series_columns else None
        outcome.value = sw.metrics[0] if sw.metrics else None
        px.value = sw.parameters[0] if sw.parameters else None
        py.value = sw.parameters[1] if len(sw.parameters) > 1 else px.value

    with solara.Card("Open a sweep's results"):
        solara.InputText("Sweep folder (with runs/*.parquet)", value=directory)
        solara.Button("Open", color="primary", on_click=open_dir)
        if error.value:
            solara.Warning(error.value)
    sw = sweep_state.value
    if sw is None:
        return
    solara.Text(f"{len(sw.runs)} runs; parameters: {', '.join(sw.parameters) or '-'}; "
                f"metrics: {', '.join(sw.metrics) or '-'}")
    with solara.Columns([1, 1]):
        with solara.Card("Fan chart"):
            if sw.series is None:
                solara.Text("This sweep has no series/ folder.")
            else:
                solara.Select("Series", values=list(sw.series_columns), value=column)
                solara.Select("One fan per value of", values=["(none)", *sw.parameters], value=by)
                if column.value:
                    png = solara.use_memo(lambda: sweep_view.fan_chart_png(
                        sw, column.value, None if by.value == "(none)" else by.value), [sw, column.value, by.value])
                    solara.Image(png, width="100%", classes=["reesim-fan"])
        with solara.Card("Heatmap"):
            if len(sw.parameters) < 1 or not sw.metrics:
                solara.Text("Need at least one swept parameter and one metric.")
            else:
                solara.Select("Outcome", values=list(sw.metrics), value=outcome)
                solara.Select("x parameter", values=list(sw.parameters), value=px)
                solara.Select("y parameter", values=list(sw.parameters), value=py)
                if outcome.value and px.value and py.value:
                    png = solara.use_memo(lambda: sweep_view.heatmap_png(sw, outcome.value, px.value, py.value),
                                          [sw, outcome.value, px.value, py.value])
                    solara.Image(png, width="100%", classes=["reesim-heatmap"])


@solara.component
def Page():
    session = solara.use_memo(SimSession, [])      # one model per browser session
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(list(SPEEDS)[1])
    levers = solara.use_reactive(session.levers)
    message = solara.use_reactive("")
    compare_result = solara.use_reactive(None)
    sweep_dir = solara.use_reactive(str(Path.cwd() / "results" / "sweeps"))
    tab = solara.use_reactive(0)

    def play_loop():
        while playing.value and session.running:
            t0 = time.perf_counter()
            session.step()
            version.value += 1
            delay = SPEEDS.get(speed.value, 0.2) - (time.perf_counter() - t0)
            time.sleep(max(delay, 0.02))
        playing.value = False

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True, raise_error=False)

    solara.Title("reesim: rare-earth trade simulator")
    with solara.AppBarTitle():
        solara.Text("reesim: rare-earth trade simulator")
    with solara.lab.Tabs(value=tab, lazy=True):
        with solara.lab.Tab("Simulate"):
            SimulatePage(session, version, playing, speed, levers, message)
        with solara.lab.Tab("Compare"):
            ComparePage(levers, compare_result)
        with solara.lab.Tab("Sweep results"):
            SweepPage(sweep_dir)
