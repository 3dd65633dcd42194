"""The app in a real browser: playwright driving Debian's /usr/bin/chromium against `solara run`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = dict(os.environ, SOLARA_ASSETS_PROXY_CACHE_DIR=str(REPO / ".solara-assets"))
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", str(REPO / "sim" / "ui" / "app.py"),
                             "--host", "127.0.0.1", "--port", str(port), "--production"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("solara server did not start in 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.goto(url)
    page.locator(".reesim-month").wait_for(timeout=60000)
    return page


def month(page) -> str:
    return page.locator(".reesim-month").inner_text()


def image_src(page, view: str) -> str:
    return page.locator(f"img.reesim-{view}, .reesim-{view} img").first.get_attribute("src") or ""


def wait_for_month(page, expected: str) -> None:
    """Wait until the page shows month ``expected`` (YYYY-MM)."""
    page.wait_for_function(f"document.querySelector('.reesim-month').innerText === '{expected}'", timeout=20000)


def step_to(page, expected: str) -> None:
    """Press Step once and wait for the page to show month ``expected``."""
    page.get_by_role("button", name="Step").click()
    wait_for_month(page, expected)


def assert_no_error_box(page):
    assert page.locator(".v-alert.error").count() == 0
    assert "Traceback (most recent call last)" not in page.locator("body").inner_text()


def test_page_loads_with_the_start_month_and_all_views(browser, server):
    page = open_page(browser, server)
    assert month(page) == "2024-01 (not started)"
    for view in ("prices", "china", "shortages", "stockpiles", "map"):
        assert page.locator(f".reesim-{view}").count() == 1
    assert_no_error_box(page)
    page.close()


def test_play_advances_the_month_and_changes_the_price_chart(browser, server):
    page = open_page(browser, server)
    step_to(page, "2024-01")
    before = image_src(page, "prices")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("document.querySelector('.reesim-month').innerText >= '2024-05'", timeout=40000)
    page.get_by_role("button", name="Pause").click()
    time.sleep(1.0)
    assert month(page) >= "2024-05"
    assert image_src(page, "prices") != before
    assert_no_error_box(page)
    page.close()


def test_shock_adds_its_marker(browser, server):
    page = open_page(browser, server)
    step_to(page, "2024-01")
    before = image_src(page, "china")
    page.get_by_role("button", name="China bans heavy-REE exports").click()
    page.get_by_text("China bans heavy-REE exports: in force from 2024-02").wait_for(timeout=20000)
    assert page.get_by_text("2024-02 China bans heavy-REE exports").count() == 1
    assert image_src(page, "china") != before       # the marker is drawn on the chart
    assert_no_error_box(page)
    page.close()


def test_switching_scenario_or_seed_resets_the_run(browser, server):
    page = open_page(browser, server)
    step_to(page, "2024-01")
    step_to(page, "2024-02")
    seed = page.get_by_label("Seed")
    seed.fill("5")
    seed.press("Enter")
    page.wait_for_function("document.querySelector('.reesim-month').innerText.includes('not started')",
                           timeout=20000)
    step_to(page, "2024-01")
    step_to(page, "2024-02")
    page.get_by_label("Scenario").click(force=True)
    page.get_by_role("option", name="china_full_ban", exact=True).click()
    page.wait_for_function("document.querySelector('.reesim-month').innerText.includes('not started')",
                           timeout=20000)
    assert_no_error_box(page)
    page.close()


def test_two_sessions_do_not_share_a_model(browser, server):
    a = open_page(browser, server)
    b = open_page(browser, server)
    for _ in range(3):
        a.get_by_role("button", name="Step").click()
    wait_for_month(a, "2024-03")
    time.sleep(0.5)
    assert month(b) == "2024-01 (not started)"
    assert_no_error_box(a)
    assert_no_error_box(b)
    a.close()
    b.close()
