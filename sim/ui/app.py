"""reesim's Solara app: Simulate, Compare and Sweep results pages.

Run with ``reesim ui`` or ``solara run sim/ui/app.py``. Each browser session gets its own run
(:class:`sim.ui.state.SimSession`, made with ``solara.use_memo`` inside ``Page``); nothing is shared
between sessions but the bounded baseline cache. The URL holds the scenario, seed and levers
(``?scenario=...&seed=...&<parameter>=...``), and ``tab=sweep&sweep=NAME`` opens a sweep.
"""

from __future__ import annotations

import solara
import solara.lab

from sim.errors import ConfigError
from sim.ui.compare import ComparePage
from sim.ui.levers import levers_from_query, shipped_scenarios
from sim.ui.simulate import KPI_CSS, SPEEDS, SimulatePage
from sim.ui.state import RefusedInput, SimSession, public_message
from sim.ui.sweep_view import SweepPage
from sim.ui.ticks import use_ticks

TABS = ("simulate", "compare", "sweep")


def query_value(query: str | None, key: str) -> str | None:
    from urllib.parse import parse_qs
    values = parse_qs(query or "").get(key)
    return values[0] if values else None


@solara.component
def Page():
    router = solara.use_router()
    initial = solara.use_memo(lambda: router.search, [])
    session = solara.use_memo(SimSession, [])              # one run per browser session
    first = solara.use_memo(lambda: levers_from_query(initial, session.uploads), [])
    levers = solara.use_reactive(first[0])
    problems = solara.use_reactive(list(first[1]))
    ticks = use_ticks()
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(list(SPEEDS)[1])
    restarts = solara.use_reactive(0)
    uploads_seen = solara.use_reactive(0)
    tab_name = query_value(initial, "tab")
    tab = solara.use_reactive(TABS.index(tab_name) if tab_name in TABS else 0)

    def restart():
        playing.set(False)
        try:
            session.reset(levers.value)
        except (RefusedInput, ConfigError) as err:
            problems.set([*problems.value, public_message(err)])
            if session.model is not None and levers.value != session.levers:
                levers.set(session.levers)          # the picker and the URL go back to the run shown
        ticks.bump(epoch=session.epoch)

    task = solara.lab.use_task(restart, dependencies=[levers.value, restarts.value], prefer_threaded=True,
                               raise_error=False)

    def play_loop():
        ticks.pacer.start()
        while playing.value and session.running:
            session.step()
            ticks.pacer.sent()
            ticks.bump(playing=True)
            ticks.pacer.wait(SPEEDS.get(speed.value, 0.2))
        playing.set(False)
        ticks.catch_up()

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True, raise_error=False)

    def sync_url():
        if tab.value == 0 and router.set_path is not None:   # None when rendered without a server (tests)
            router.push(f"{router.path or '/'}?{levers.value.to_query()}")
    solara.use_effect(sync_url, [levers.value, tab.value])

    def on_upload(filename: str, content: bytes) -> str:
        try:
            name = session.add_upload(filename, content)
        except ConfigError as err:
            return f"Not loaded: {public_message(err)}"
        uploads_seen.set(uploads_seen.value + 1)
        levers.set(levers.value.with_(scenario=name))
        return f"Loaded {name}"

    scenarios = {**shipped_scenarios(), **{n: s.description for n, s in session.uploads.items()}}
    busy = bool(task.pending) or session.model is None
    solara.Title("reesim: rare-earth trade simulator")
    solara.Style(".reesim-slider .v-input__slot { min-width: 120px; } .reesim-lever { margin-bottom: 10px; }"
                 + KPI_CSS)
    with solara.AppBarTitle():
        solara.Text("reesim: rare-earth trade simulator")
    with solara.lab.Tabs(value=tab, lazy=True):
        with solara.lab.Tab("Simulate"):
            SimulatePage(session, levers, ticks, playing, speed, busy, problems.value, scenarios,
                         lambda: restarts.set(restarts.value + 1), on_upload)
        with solara.lab.Tab("Compare"):
            ComparePage(levers, session.uploads)
        with solara.lab.Tab("Sweep results"):
            SweepPage(query_value(initial, "sweep"))

