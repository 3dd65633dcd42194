"""Frame time of the UI as a user sees it: two browser sessions playing at once on one server.

    python benchmarks/bench_ui.py [--seconds 20] [--json] [--server-only]

Starts ``solara run sim/ui/app.py`` on a free local port, opens two pages in headless Chromium
(/usr/bin/chromium), sets both to "fast" and presses Play on both. In each page a MutationObserver
records when the month display changes; a frame is the time between two changes: one model step on
the server plus the updates of that month (the month, the KPI cards, the price chart, and the other
charts on their months), sent to and drawn by the browser. Prints the median and
90th percentile per session, and then, for one session alone at "normal", the months per second
reached (the page promises 5). The budget is 150 ms per frame at the 90th percentile.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
OBSERVE = """() => {
  window.__frames = [];
  const el = document.querySelector('.reesim-month');
  let shown = el.textContent;
  new MutationObserver(() => {
    // a frame is a new month on the page (a DOM update may come as several mutations)
    if (el.textContent !== shown) { shown = el.textContent; window.__frames.push(performance.now()); }
  }).observe(el, {childList: true, characterData: true, subtree: true});
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO),
               SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    env.setdefault("SOLARA_ASSETS_PROXY_CACHE_DIR", str(REPO / ".solara-assets"))
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", str(REPO / "sim/ui/app.py"), "--host",
                             "127.0.0.1", "--port", str(port), "--production"], cwd=REPO, env=env,
                            stdout=open(os.environ.get("BENCH_UI_LOG", os.devnull), "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


def _open(browser, url: str, speed: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)
    page.locator(".reesim-month").wait_for(timeout=120_000)
    page.locator(".reesim-prices .js-plotly-plot").wait_for(timeout=120_000)
    page.get_by_text("normal (5 months/s)").click()
    page.get_by_role("option", name=speed).click()
    page.evaluate(OBSERVE)
    return page


def _pause(page) -> None:
    """Press Pause if the run is still playing (a run that reached its end has stopped by itself)."""
    button = page.get_by_role("button", name="Pause")
    if button.count():
        button.click(timeout=120_000)


def _intervals_ms(page) -> np.ndarray:
    t = np.asarray(page.evaluate("() => window.__frames"), dtype=float)
    return np.diff(t[2:]) if len(t) > 3 else np.empty(0)   # the first frames include the start


def measure(seconds: float = 20.0) -> dict:
    from playwright.sync_api import sync_playwright
    port = _free_port()
    server = _start_server(port)
    url = f"http://127.0.0.1:{port}/"
    out: dict = {"seconds": seconds}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            pages = [_open(browser, url, "fast (as fast as possible)") for _ in range(2)]
            for page in pages:
                page.get_by_role("button", name="Play").click()
            time.sleep(seconds)
            for page in pages:
                _pause(page)
            for k, page in enumerate(pages):
                iv = _intervals_ms(page)
                out[f"session_{k + 1}"] = {"frames": int(len(iv)), "p50_ms": float(np.percentile(iv, 50)),
                                           "p90_ms": float(np.percentile(iv, 90)), "max_ms": float(iv.max())}
            both = np.concatenate([_intervals_ms(pg) for pg in pages])
            out["two_sessions_p90_ms"] = float(np.percentile(both, 90))
            for page in pages:
                page.close()
            solo = _open(browser, url, "normal (5 months/s)")
            solo.get_by_role("button", name="Play").click()
            time.sleep(seconds / 2)
            _pause(solo)
            iv = _intervals_ms(solo)
            out["normal_months_per_s"] = float(1000.0 / np.mean(iv)) if len(iv) else 0.0
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return out


def measure_server(frames: int = 120) -> dict:
    """Server side only, two sessions in two threads: a step plus the messages one frame of Play makes
    (KPIs, the price chart, and the other charts and the map on their months, :data:`sim.ui.ticks.LANES`),
    built as the page's charts build them (:func:`sim.ui.live_plot.update_message`)."""
    import threading

    from sim.ui import charts, trade_map
    from sim.ui.live_plot import update_message
    from sim.ui.simulate import kpi_html
    from sim.ui.state import SimSession
    from sim.ui.ticks import LANES

    def indices(fig) -> dict:
        return {tr.meta: i for i, tr in enumerate(fig.data) if isinstance(tr.meta, str)}

    def one(out: list) -> None:
        s = SimSession()
        s.reset()
        m = s.model
        marks = charts.event_marks(m.spec, m.shock_log)
        builders = {"prices": charts.price_figure, "china": charts.china_figure,
                    "shortages": charts.shortage_figure, "stockpiles": charts.stockpile_figure}
        figures = {k: charts.with_horizon_x(b(s.frame(), s.baseline, m.spec, marks), m.spec.start, m.spec.end)
                   for k, b in builders.items()}
        w = m.world
        map_indices = indices(trade_map.map_base_figure(w.nations, w.lat, w.lon))
        for n in range(1, frames + 1):
            t0 = time.perf_counter()
            s.step()
            kpi_html(s.kpis(), bool(s.last_shock_month))
            for k, fig in figures.items():
                period, offset = LANES.get(k, (1, 0))
                if n % period == offset:
                    update_message(indices(fig), charts.live_updates(s.column, fig))
            if n % LANES["map"][0] == LANES["map"][1]:
                props, title = trade_map.map_updates(m.last_flows, w.nations, w.lat, w.lon, m.current_month())
                update_message(map_indices, props, {"title.text": title})
            out.append((time.perf_counter() - t0) * 1000.0)

    results: list[list] = [[], []]
    threads = [threading.Thread(target=one, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    both = np.concatenate([np.asarray(r) for r in results])
    return {"frames": int(len(both)), "p50_ms": float(np.percentile(both, 50)),
            "p90_ms": float(np.percentile(both, 90))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--server-only", action="store_true", help="no browser: step + chart messages in two threads")
    args = ap.parse_args()
    if args.server_only:
        r = measure_server()
        print(json.dumps(r, indent=2) if args.json else
              f"server side, two sessions: {r['frames']} frames, p50 {r['p50_ms']:.0f} ms, p90 {r['p90_ms']:.0f} ms")
        return
    res = measure(args.seconds)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    for k in ("session_1", "session_2"):
        r = res[k]
        print(f"{k}: {r['frames']} frames at 'fast', p50 {r['p50_ms']:.0f} ms, p90 {r['p90_ms']:.0f} ms, "
              f"max {r['max_ms']:.0f} ms")
    print(f"two sessions playing: frame p90 {res['two_sessions_p90_ms']:.0f} ms (budget 150 ms)")
    print(f"one session at 'normal': {res['normal_months_per_s']:.2f} months/s (promised 5)")


if __name__ == "__main__":
    main()
