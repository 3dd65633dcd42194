"""Take the README's screenshot of the Simulate page (docs/img/ui.png).

    SOLARA_ASSETS_PROXY_CACHE_DIR=.solara-assets python scripts/ui_screenshot.py [--out docs/img/ui.png]

Starts ``solara run sim/ui/app.py`` (as benchmarks/bench_ui.py does), opens the page at 1440 x 1000
in headless Chromium, plays the baseline at "fast" to 2033-12, applies the preset "China bans
heavy-REE exports to US allies", plays on to 2037-01, applies "Allies release stockpiles", steps
one month and pauses, then saves the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_ui  # noqa: E402  (its server start and browser flags)


def play_until(page, month: str) -> None:
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("m => document.querySelector('.reesim-month').innerText.trim() >= m", arg=month,
                           timeout=300_000)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=60_000)


def main() -> None:
    from playwright.sync_api import sync_playwright
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs/img/ui.png")
    args = ap.parse_args()
    port = bench_ui._free_port()
    server = bench_ui._start_server(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=bench_ui.ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(".reesim-prices .js-plotly-plot").wait_for(timeout=120_000)
            page.get_by_text("normal (5 months/s)").click()
            page.get_by_role("option", name="fast (as fast as possible)").click()
            play_until(page, "2033-11")
            page.get_by_text("China bans heavy-REE exports to US allies").click()
            play_until(page, "2036-12")
            page.get_by_text("Allies release stockpiles").click()
            before = page.locator(".reesim-month").inner_text()
            page.get_by_role("button", name="Step").click()
            page.wait_for_function("b => document.querySelector('.reesim-month').innerText.trim() != b",
                                   arg=before.strip())
            page.wait_for_timeout(1500)          # the charts' last draw
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
