"""The dashboard in a real browser: `streamlit run` as a subprocess on loopback, every page loaded
in Debian's chromium through Playwright (never a downloaded browser), no exception box, and a
screenshot of each page in artifacts/screenshots/ (uploaded by CI as test artifacts)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.browser import CHROMIUM, VIEWPORT, launch, serve, settle, stop
from dashboard.browser import PAGE_TITLES as PAGES
from etl.cli import dashboard_command
from tests.dashboard.conftest import mart

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(CI installs it: apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def served(pipeline_db) -> Iterator[str]:
    """The dashboard served on a free loopback port over the fixture warehouse."""
    env = {k: v for k, v in os.environ.items() if k != "PAGERLENS_DB"}
    try:
        proc, url = serve(
            lambda port: dashboard_command(pipeline_db, port), cwd=ROOT, env=env, keep_output=True
        )
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch(pw)
        try:
            yield chromium
        finally:
            chromium.close()


def wait_rendered(page, title: str, timeout_s: float = 60) -> float:
    """Poll (every 100 ms) until the page's run has finished and it is fully drawn, and stays
    so for three polls (dashboard.browser.settle)."""
    return settle(page, title, time.monotonic(), timeout_s=timeout_s, poll_s=0.1)


@pytest.mark.parametrize("url_path", list(PAGES))
def test_every_page_renders_in_chromium(served, browser, url_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport=VIEWPORT)
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
    page = browser.new_page(viewport=VIEWPORT)
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


def test_priority_and_custom_field_filters_from_a_shared_link(served, browser, pipeline_db):
    # The top priority and the commonest root cause of the simulated account (issue 14).
    ((priority_id, priority_name),) = mart(
        pipeline_db, "select priority_id, priority_name from stg_priorities where priority_rank = 1"
    )
    ((value,),) = mart(
        pipeline_db,
        "select value from incident_custom_fields where field_name = 'root_cause' "
        "and value is not null group by value order by count(*) desc, value limit 1",
    )
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(
            f"{served}/services?priority={priority_id}&priority=%28none%29"
            f"&custom_field=root_cause&custom_value={value}&start=2026-02-02&end=2026-03-01"
        )
        wait_rendered(page, "Services and teams")
        sidebar = page.locator('[data-testid="stSidebar"]')
        for text in ("Priority", priority_name, "(no priority)", "Custom field", value):
            assert sidebar.get_by_text(text, exact=True).count() >= 1, text
        assert f"priority={priority_id}" in page.url and f"custom_value={value}" in page.url
        page.screenshot(
            path=str(SCREENSHOTS / "dashboard-priority-custom-field.png"), full_page=True
        )
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    finally:
        page.close()


def test_empty_warehouse_in_chromium(browser, tmp_path_factory):
    """A never-synced warehouse path shows how to run the first sync."""
    missing = tmp_path_factory.mktemp("none") / "pagerlens.duckdb"
    proc, url = serve(lambda port: dashboard_command(missing, port), cwd=ROOT)
    page = browser.new_page()
    try:
        page.goto(f"{url}/")
        wait_rendered(page, "pagerlens")
        assert page.get_by_text("pagerlens demo").count() >= 1
        assert page.locator('[data-testid="stException"]').count() == 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-empty.png"), full_page=True)
    finally:
        page.close()
        stop(proc)
