"""The dashboard in a real browser: `streamlit run` as a subprocess on loopback, every page loaded
in Debian's chromium through Playwright (never a downloaded browser), no exception box, and a
screenshot of each page in artifacts/screenshots/ (uploaded by CI as test artifacts)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.cli import dashboard_command
from tests.dashboard.conftest import mart

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url path -> the page's title
# The default page is served at "/" (its url path gives "Page not found").
PAGES = {
    "": "Overview",
    "services": "Services and teams",
    "responders": "Responders",
    "noise": "Noise and recommendations",
    "alert-groups": "Alert groups",
    "impact": "Business impact",
    "reports": "Reports",
    "data": "Data",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(CI installs it: apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(pipeline_db) -> Iterator[str]:
    """The dashboard served on a free loopback port over the fixture warehouse."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PAGERLENS_DB"}
    proc = subprocess.Popen(
        dashboard_command(pipeline_db, port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"streamlit did not start:\n{output[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


RENDERED_JS = """(title) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const busy = '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], '
        + '[data-testid="stAppSkeleton"], [data-stale="true"]';
    if (document.querySelector(busy)) return false;
    const headings = [...document.querySelectorAll('h1')].map(h => h.textContent.trim());
    if (!headings.includes(title)) return false;
    return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => c.querySelector('.main-svg'));
}"""


def wait_rendered(page, title: str, timeout_s: float = 60, settle_polls: int = 3) -> float:
    """Poll until the run has finished and the page is fully drawn, and stays so.

    A page load can take two script runs (the first before navigation is known), so the
    condition must hold for ``settle_polls`` consecutive polls 100 ms apart. Returns the
    seconds until the condition first held in the final settled streak.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    streak_started: float | None = None
    streak = 0
    while time.monotonic() < deadline:
        if page.evaluate(RENDERED_JS, title):
            if streak == 0:
                streak_started = time.monotonic()
            streak += 1
            if streak >= settle_polls:
                return streak_started - started
        else:
            streak = 0
        page.wait_for_timeout(100)
    raise AssertionError(f"page {title!r} did not finish rendering in {timeout_s} s")


@pytest.mark.parametrize("url_path", list(PAGES))
def test_every_page_renders_in_chromium(served, browser, url_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{served}/{url_path}")
        wait_rendered(page, PAGES[url_path])
        page.screenshot(
            path=str(SCREENSHOTS / f"dashboard-{url_path or 'overview'}.png"), full_page=True
        )
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[role="dialog"]').count() == 0  # e.g. "Page not found"
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        # No alert text may execute or become markup (hostile text: test_pages, hostile_db).
        assert dialogs == []
        assert page.locator("main script").count() == 0
    finally:
        page.close()


def test_filters_round_trip_through_the_url(served, browser, pipeline_db):
    # A team whose name carries markup characters ("Search & Discovery" in the simulated account).
    ((team_id, team_name),) = mart(
        pipeline_db,
        "select team_id, any_value(team_name) from incidents group by team_id "
        "order by contains(any_value(team_name), '&') desc, team_id limit 1",
    )
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        page.goto(f"{served}/services?team={team_id}&start=2026-02-09&end=2026-02-22")
        wait_rendered(page, "Services and teams")
        # The shared link selected one team: its name is a chip in the team filter.
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text(team_name).count() >= 1
        assert f"team={team_id}" in page.url and "start=2026-02-09" in page.url
        # Switching page keeps the view and the URL.
        page.get_by_role("link", name="Overview").click()
        wait_rendered(page, "Overview")
        page.wait_for_function(f"() => location.search.includes('team={team_id}')", timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-overview-filtered.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_empty_warehouse_in_chromium(browser, tmp_path_factory):
    """A never-synced warehouse path shows how to run the first sync."""
    missing = tmp_path_factory.mktemp("none") / "pagerlens.duckdb"
    port = _free_port()
    proc = subprocess.Popen(
        dashboard_command(missing, port),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = browser.new_page()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.3)
        page.goto(f"http://127.0.0.1:{port}/")
        wait_rendered(page, "pagerlens")
        assert page.get_by_text("pagerlens demo").count() >= 1
        assert page.locator('[data-testid="stException"]').count() == 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-empty.png"), full_page=True)
    finally:
        page.close()
        proc.terminate()
        proc.wait(timeout=10)
