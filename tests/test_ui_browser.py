"""The app in a real browser: playwright driving Debian's /usr/bin/chromium against one `solara run`.

One server and one browser for the whole module; the server's results folder holds the output of a
real ``run_sweep`` on configs/sweeps/smoke.toml.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 90_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from sim.sweep import run_sweep
    root = tmp_path_factory.mktemp("results")
    run_sweep(REPO / "configs/sweeps/smoke.toml", root / "smoke", workers=0, progress=False)
    return root


def _serve(app: str, results: Path | None = None):
    port = _free_port()
    env = dict(os.environ, SOLARA_ASSETS_PROXY_CACHE_DIR=os.environ.get(
        "SOLARA_ASSETS_PROXY_CACHE_DIR", str(REPO / ".solara-assets")), PYTHONPATH=str(REPO),
               SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    if results is not None:
        env["REESIM_RESULTS_ROOT"] = str(results)
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", str(REPO / "sim" / "ui" / app),
                             "--host", "127.0.0.1", "--port", str(port), "--production"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("solara server did not start in 90 s")
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(results):
    proc, url = _serve("app.py", results)
    yield url
    _stop(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def open_sim(page, url):
    page.goto(url)
    page.locator(".reesim-month").wait_for(timeout=TIMEOUT_MS)
    return page


def month(page) -> str:
    return page.locator(".reesim-month").inner_text().strip()


def step(page, n: int):
    for _ in range(n):
        before = month(page)
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            "b => document.querySelector('.reesim-month') && document.querySelector('.reesim-month').innerText.trim() != b",
            arg=before, timeout=TIMEOUT_MS)


def settled(page):
    """Wait until no restart is running (the month display is back)."""
    page.locator(".reesim-busy").wait_for(state="detached", timeout=TIMEOUT_MS)
    page.locator(".reesim-month").wait_for(timeout=TIMEOUT_MS)


def run_model(months: int, scenario="baseline", seed=1, **params) -> pd.DataFrame:
    from sim.model import RareEarthModel
    m = RareEarthModel(scenario, seed=seed, **params)
    m.run_for(months)
    return m.datacollector.get_model_vars_dataframe().reset_index(drop=True)


# ---------------------------------------------------------------- tests
def test_hovering_a_chart_shows_a_value_with_its_unit(page, server):
    open_sim(page, server + "/")
    step(page, 3)
    plot = page.locator(".reesim-prices .nsewdrag").first
    plot.wait_for(timeout=TIMEOUT_MS)
    box = plot.bounding_box()
    page.mouse.move(box["x"] + 8, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + 10, box["y"] + box["height"] / 2)
    hover = page.locator(".reesim-prices .hoverlayer")
    page.wait_for_function("() => document.querySelector('.reesim-prices .hoverlayer').textContent.includes('USD/kg')",
                           timeout=20_000)
    text = hover.text_content()
    assert "USD/kg" in text
    assert re.search(r"(?<!\d)20[2-5]\d-[01]\d(?!\d)", text), text     # the month it is about, as YYYY-MM


LIVE_LINES = """() => {
  const gd = document.querySelector('.reesim-prices .js-plotly-plot');
  return gd.data.map((t, i) => [t.meta || '', Array.from(t.y || []), gd.calcdata[i].length])
                .filter(([meta]) => meta.startsWith('live:'));
}"""


def shown_months(page) -> int:
    from sim.calendar import month_index
    from sim.model import RareEarthModel
    return month_index(month(page)) - month_index(RareEarthModel("baseline", seed=1).spec.start) + 1


def wait_lines_drawn(page, months: int):
    """Wait until the price chart's live lines hold ``months`` months."""
    page.wait_for_function(LIVE_LINES.replace("() => {", "() => (() => {", 1) + f")().every(r => r[2] === {months})",
                           timeout=20_000)


def test_the_price_chart_on_the_page_is_the_run_month_by_month(page, server):
    """Steps and Play send each month's values to the page, drawn as a full redraw or as the lines only
    (values inside the axes): either way the live lines drawn there are the run's own series."""
    open_sim(page, server + "/")
    step(page, 2)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => document.querySelector('.reesim-month').innerText.trim() >= '2025-09'",
                           timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=TIMEOUT_MS)
    shown, months = month(page), shown_months(page)
    wait_lines_drawn(page, months)
    run = run_model(months)
    assert run["date"].iloc[-1] == shown
    lines = page.evaluate(LIVE_LINES)
    assert len(lines) == 4                              # Nd, Tb, Dy, NdFeB by default
    for meta, y, drawn in lines:
        assert drawn == months
        np.testing.assert_allclose(y, run[meta[len("live:"):]].to_numpy(dtype=float), rtol=1e-12)


CHART_WIDTHS = """() => [...document.querySelectorAll('.reesim-chart')].map(box => {
  const card = box.closest('.v-card');
  const svg = box.querySelector('.js-plotly-plot .main-svg');
  const style = getComputedStyle(card);
  const inner = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [box.className, svg ? svg.getBoundingClientRect().width : 0, inner];
})"""


@pytest.mark.parametrize("width", [1440, 1280, 768])
def test_charts_fill_their_card(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        open_sim(page, server + "/")
        page.locator(".reesim-map .js-plotly-plot .main-svg").first.wait_for(timeout=TIMEOUT_MS)
        step(page, 1)
        page.wait_for_function(CHART_WIDTHS.replace("() =>", "() => (") +
                               ").every(([name, chart, card]) => chart >= 0.9 * card && chart <= card + 1)", timeout=20_000)
        widths = page.evaluate(CHART_WIDTHS)
        assert len(widths) == 5
        for name, chart, card in widths:
            assert 0.9 * card <= chart <= card + 1, f"{name}: chart {chart:.0f} px in a card {card:.0f} px wide at {width} px"
    finally:
        context.close()


def test_every_lever_moves_by_keyboard_and_by_drag_and_shows_its_value(page, server):
    from sim.ui.levers import format_value, lever_names, parameter_table, slider_positions
    open_sim(page, server + "/")
    table = parameter_table()
    for name in lever_names():
        p = table[name]
        lever = page.locator(f".reesim-lever-{name}")
        value = lever.locator(".reesim-lever-value")
        assert value.inner_text().strip() == format_value(p.value, p.unit)
        thumb = lever.locator(".v-slider__thumb-container")
        thumb.focus()
        page.keyboard.press("ArrowRight")
        positions = slider_positions(name, p.value)
        expected = positions[positions.index(p.value) + 1]
        page.wait_for_function("([sel, want]) => document.querySelector(sel).innerText.trim() == want",
                               arg=[f".reesim-lever-{name} .reesim-lever-value", format_value(expected, p.unit)],
                               timeout=TIMEOUT_MS)
        settled(page)
        assert f"{name}={expected:.10g}" in page.url
        before = value.inner_text().strip()
        track = lever.locator(".v-slider__track-container").bounding_box()
        box = thumb.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(track["x"] + 0.8 * track["width"], track["y"] + track["height"] / 2, steps=8)
        page.mouse.up()
        page.wait_for_function("([sel, old]) => document.querySelector(sel).innerText.trim() != old",
                               arg=[f".reesim-lever-{name} .reesim-lever-value", before], timeout=TIMEOUT_MS)
        settled(page)
        page.wait_for_function("n => window.location.search.includes(n + '=')", arg=name, timeout=TIMEOUT_MS)
        shown = value.inner_text().strip()
        lo = p.min + 0.6 * (p.max - p.min)
        dragged = float(page.url.split(f"{name}=")[1].split("&")[0])
        assert lo <= dragged <= p.max and shown == format_value(dragged, p.unit)


def test_a_bad_custom_shock_shows_a_clear_message_and_changes_nothing(page, server):
    open_sim(page, server + "/")
    step(page, 2)
    page.get_by_text("Custom shock").click()
    page.locator(".reesim-field-lost_frac input").fill("2")
    page.locator(".reesim-apply-shock").click()
    msg = page.locator(".reesim-shock-message")
    msg.wait_for(timeout=TIMEOUT_MS)
    text = msg.inner_text()
    assert text.strip().startswith("shock: nation: missing (required)")   # first problem: no nation chosen
    page.locator(".reesim-field-nation").click()
    page.get_by_role("option", name="MMR", exact=True).click()
    page.locator(".reesim-apply-shock").click()
    page.wait_for_function("() => document.querySelector('.reesim-shock-message').innerText.includes('less than')",
                           timeout=TIMEOUT_MS)
    text = msg.inner_text()
    assert "less than or equal to 1" in text and "got 2" in text
    assert page.locator(".reesim-shock-list").count() == 0 and month(page) == "2024-02"


def test_a_preset_shock_and_its_undo(page, server):
    open_sim(page, server + "/")
    step(page, 2)
    page.get_by_role("button", name="Myanmar loses 90 % of mining").click()
    page.locator(".reesim-shock-list").wait_for(timeout=TIMEOUT_MS)
    assert "2024-03 Myanmar" in page.locator(".reesim-shock-list").inner_text()
    marker = ".reesim-{} .annotation-text"
    for chart in ("prices", "china"):       # the time charts mark the shock (rebuilt on it)
        page.wait_for_function("s => [...document.querySelectorAll(s)].some(a => a.textContent.includes('Myanmar'))",
                               arg=marker.format(chart), timeout=20_000)
    step(page, 2)
    page.locator(".reesim-undo").click()
    page.locator(".reesim-shock-list").wait_for(state="detached", timeout=TIMEOUT_MS)
    assert "undone: Myanmar" in page.locator(".reesim-shock-message").inner_text()
    assert month(page) == "2024-04"
    page.wait_for_function("s => ![...document.querySelectorAll(s)].some(a => a.textContent.includes('Myanmar'))",
                           arg=marker.format("prices"), timeout=20_000)


PRICE_CHART = """() => {
  const gd = document.querySelector('.reesim-prices .js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullData) return null;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const drawn = (i) => {
    const path = gd.querySelector(`.scatterlayer .trace${gd._fullData[i].uid} path.js-line`);
    const d = path ? path.getAttribute('d') || '' : '';
    return {d: d.length, nan: d.includes('NaN'), width: path && d ? path.getBBox().width : 0};
  };
  const center = (el) => { const r = el.getBoundingClientRect(); return r.left + r.width / 2; };
  return {
    x_type: xa.type, plot_width: xa._length, y_range: ya.range.slice(),
    x_ticks: [...gd.querySelectorAll('.xtick text')].map(t => [t.textContent, center(t)]),
    baseline: gd._fullData.map((t, i) => [t.name, i]).filter(([name]) => name.endsWith('(baseline)'))
                .map(([name, i]) => [name, drawn(i)]),
    legend: [...gd.querySelectorAll('.legend .legendtext')].map(t => t.textContent),
    nan_paths: [...gd.querySelectorAll('path')].filter(p => (p.getAttribute('d') || '').includes('NaN')).length,
    nan_transforms: [...gd.querySelectorAll('[transform]')].filter(g => g.getAttribute('transform').includes('NaN')).length,
    shapes: [...gd.querySelectorAll('.shapelayer path')].map(p => [p.getAttribute('d') || '', center(p), p.style.stroke]),
    labels: [...gd.querySelectorAll('.annotation-text')].map(t => t.textContent),
  };
}"""


def price_chart(page) -> dict:
    return page.evaluate(PRICE_CHART)


def price_chart_when(page, condition: str, timeout_ms: int = 20_000) -> tuple[bool, dict | None]:
    """Wait until ``condition`` (a JS function of :data:`PRICE_CHART`'s result) holds; (whether it did, the chart)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(f"() => {{ const c = ({PRICE_CHART})(); return Boolean(c && ({condition})(c)); }}",
                               timeout=timeout_ms)
        return True, price_chart(page)
    except PlaywrightTimeout:
        return False, price_chart(page)


# every baseline line drawn across the whole horizon, and the legend naming the elements
BASELINE_AND_LEGEND = """c => c.baseline.length === 4
  && c.baseline.every(([, d]) => d.d > 0 && !d.nan && d.width > 0.9 * c.plot_width)
  && ['Nd', 'Tb', 'Dy', 'NdFeB'].every(e => c.legend.includes(e))"""


def test_the_baseline_and_the_legend_are_drawn_from_page_load(page, server):
    """The dotted baseline and the legend are on the price chart from page load (before the first month),
    and stay when the live lines are redrawn alone (Steps, Play inside the axes)."""
    open_sim(page, server + "/")
    ok, chart = price_chart_when(page, BASELINE_AND_LEGEND)
    assert ok, chart and (chart["baseline"], chart["legend"])
    step(page, 3)
    wait_lines_drawn(page, 3)
    ok, chart = price_chart_when(page, BASELINE_AND_LEGEND)
    assert ok, (chart["baseline"], chart["legend"])
    assert chart["x_type"] == "date"


def test_a_shock_that_lifts_prices_out_of_the_axes_keeps_the_date_axis_and_its_marker(page, server):
    """Steps, the heavy-REE ban and Play until prices pass the top of the price axis as drawn: the chart
    is redrawn in full, and its x axis stays a date axis (years as ticks), nothing is drawn at NaN, no
    console error, and the shock's marker stands at its month."""
    from sim.ui.charts import SHOCK_COLOUR
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    open_sim(page, server + "/")
    step(page, 3)
    page.get_by_role("button", name="China bans heavy-REE exports to US allies").click()
    page.locator(".reesim-shock-list").wait_for(timeout=TIMEOUT_MS)
    made = re.fullmatch(r"Made: (20\d\d-[01]\d) China bans heavy-REE exports to US allies",
                        page.locator(".reesim-shock-list").inner_text().strip())
    assert made, page.locator(".reesim-shock-list").inner_text()
    shock_month = made.group(1)
    ok, chart = price_chart_when(page, "c => c.labels.some(a => a.startsWith('China bans'))")
    assert ok, chart and chart["labels"]
    top_before = max(chart["y_range"])
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => document.querySelector('.reesim-month').innerText.trim() >= '2025-06'",
                           timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=TIMEOUT_MS)
    wait_lines_drawn(page, shown_months(page))
    chart = price_chart(page)
    assert max(chart["y_range"]) > top_before           # prices left the axes as drawn: the full redraw path
    assert chart["x_type"] == "date"
    ticks = [text for text, _ in chart["x_ticks"]]
    assert ticks and all(re.fullmatch(r"20[2-5]\d", t) for t in ticks), ticks
    assert chart["nan_paths"] == 0 and chart["nan_transforms"] == 0
    assert errors == []
    assert any(label.startswith("China bans") for label in chart["labels"])
    r, g, b = (int(SHOCK_COLOUR[k:k + 2], 16) for k in (1, 3, 5))
    [(d, marker_x)] = [(d, x) for d, x, stroke in chart["shapes"] if stroke == f"rgb({r}, {g}, {b})"]
    assert d and "NaN" not in d
    # the marker stands where its month falls between two year ticks
    (y0, x0), (y1, x1) = [(int(t), x) for t, x in chart["x_ticks"][:2]]
    year, mon = int(shock_month[:4]), int(shock_month[5:])
    days = (pd.Timestamp(year=year, month=mon, day=1) - pd.Timestamp(year=y0, month=1, day=1)).days
    span = (pd.Timestamp(year=y1, month=1, day=1) - pd.Timestamp(year=y0, month=1, day=1)).days
    assert marker_x == pytest.approx(x0 + (x1 - x0) * days / span, abs=1.5)


def test_downloaded_time_series_matches_the_run(page, server):
    open_sim(page, server + "/")
    step(page, 4)
    with page.expect_download(timeout=TIMEOUT_MS) as dl:
        page.get_by_role("button", name="time series CSV").click()
    got = pd.read_csv(dl.value.path())
    want = run_model(4)
    assert list(got["date"]) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    for col in ("price_Dy_usd_per_kg", "shortage_t", "china_share_separation"):
        assert got[col].tolist() == pytest.approx(want[col].tolist(), rel=1e-12)


def test_a_url_with_levers_reproduces_them(page, server):
    open_sim(page, server + "/?scenario=china_full_ban&seed=4&stockpile_days_scale=2.5")
    assert "china_full_ban" in page.locator(".reesim-scenario").inner_text()
    assert page.locator(".reesim-seed input").input_value() == "4"
    assert page.locator(".reesim-lever-stockpile_days_scale .reesim-lever-value").inner_text().strip() == "2.5 multiple"
    step(page, 2)
    want = run_model(2, "china_full_ban", seed=4, stockpile_days_scale=2.5)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from sim.ui.charts import fmt_number
    expected = fmt_number(float(want["price_Dy_usd_per_kg"].iloc[-1]))
    page.locator(".reesim-kpi-value").nth(1).wait_for(timeout=TIMEOUT_MS)   # the cards may still be re-rendering
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function("([sel, want]) => { const c = document.querySelectorAll(sel);"
                               " return c.length > 1 && c[1].innerText.startsWith(want); }",
                               arg=[".reesim-kpi-value", expected], timeout=TIMEOUT_MS)
    cards = page.locator(".reesim-kpi-value").all_inner_texts()
    assert cards[1].startswith(expected), (cards, expected)


def test_forged_requests_are_refused(page, server):
    open_sim(page, server + "/?scenario=../../pyproject&seed=1")
    warning = page.locator(".reesim-url-problem").inner_text()
    assert "not a shipped scenario" in warning and "pyproject" not in warning and "/work" not in warning
    assert "baseline" in page.locator(".reesim-scenario").inner_text()
    page.goto(server + "/?tab=sweep&sweep=../../../etc")
    refused = page.locator(".reesim-sweep-refused")
    refused.wait_for(timeout=TIMEOUT_MS)
    assert "not a sweep" in refused.inner_text() and "etc" not in refused.inner_text()


def test_sweep_page_opens_a_real_smoke_sweep_and_draws_its_heatmap(page, server, results):
    from sim.sweep_results import _label, heatmap_table, open_sweep
    page.goto(server + "/?tab=sweep&sweep=smoke")
    page.locator(".reesim-heatmap .js-plotly-plot").wait_for(timeout=TIMEOUT_MS)
    out = open_sweep(results / "smoke")
    h = out.heatmaps[0]
    table = heatmap_table(out.runs, h["x"], h["y"], h["metric"])
    cells = page.locator(".reesim-heatmap .js-plotly-plot").text_content()
    for v in table.to_numpy().ravel():
        assert _label(float(v)) in cells
    assert page.locator(".reesim-fan .js-plotly-plot path.js-line").count() >= 1
    assert "16 runs ok, 0 failed" in page.inner_text("body")


def test_the_2010_replay_shows_recorded_prices(page, server):
    from sim.ui.history import history_prices
    open_sim(page, server + "/?scenario=china_2010_quota")
    step(page, 1)
    assert "History mode" in page.locator(".reesim-history-note").inner_text()
    legend = page.locator(".reesim-prices .legend").text_content()
    assert "Dy recorded" in legend and "Nd recorded" in legend
    h = history_prices("china_2010_quota")
    shown = h[h["element"].isin(["Nd", "Tb", "Dy", "NdFeB"]) & ~h["inside_china"]]
    points = page.locator(".reesim-prices .scatterlayer .trace .points path").count()
    assert points == len(shown)


def test_mesa_solaraviz_reset_works(page):
    """Mesa's SolaraViz on RareEarthModel (its own small app, the one extra server of this module)."""
    proc, url = _serve("mesa_app.py")
    try:
        _mesa_reset(page, url)
    finally:
        _stop(proc)


def _mesa_reset(page, url):
    page.goto(url)
    page.get_by_text("Time: 0.0").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Time: 1.0").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Time: 0.0").wait_for(timeout=20_000)
    assert "Traceback" not in page.inner_text("body")
