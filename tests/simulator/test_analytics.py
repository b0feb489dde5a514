"""The simulated Analytics API: paging, limits, access, filters, and figures from the histories.

The 90-day module account (``account`` fixture); requests go over HTTP like a client's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from simulator._common import parse_iso
from simulator.analytics import AnalyticsSettings
from simulator.server import SimServer
from tests.simulator.server_helpers import client

RAW = "/analytics/raw/incidents"
SERVICES = "/analytics/metrics/incidents/services"
RESPONDERS = "/analytics/metrics/responders/all"


@pytest.fixture
def served(account):
    with SimServer(account) as server, client(server) as http:
        yield server, http


def _window(account, days: int = 14) -> dict:
    end = account.end
    return {
        "created_at_start": (end - timedelta(days=days)).isoformat(),
        "created_at_end": end.isoformat(),
    }


def _all_raw(http, body: dict) -> tuple[list[dict], int]:
    rows, pages = [], 0
    while True:
        page = http.post(RAW, json=body).json()
        pages += 1
        rows.extend(page["data"])
        if not page["more"]:
            return rows, pages
        body = dict(body, starting_after=page["last"])


def test_cursor_paging_returns_every_incident_once_in_order(served, account):
    _, http = served
    window = _window(account)
    one_page, _ = _all_raw(http, {"filters": window, "limit": 1000, "order": "asc"})
    paged, pages = _all_raw(http, {"filters": window, "limit": 37, "order": "asc"})
    assert [r["id"] for r in paged] == [r["id"] for r in one_page]
    assert pages == -(-len(one_page) // 37) and len(one_page) > 100
    assert [r["created_at"] for r in paged] == sorted(r["created_at"] for r in paged)
    newest_first = http.post(RAW, json={"filters": window, "limit": 5}).json()
    assert [r["id"] for r in newest_first["data"]] == [r["id"] for r in one_page[::-1][:5]]
    before = http.post(
        RAW,
        json={"filters": window, "limit": 3, "order": "asc", "ending_before": one_page[10]["id"]},
    ).json()
    assert [r["id"] for r in before["data"]] == [r["id"] for r in one_page[7:10]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"limit": 1001}, "limit must be an integer from 1 to 1000"),
        ({"limit": 0}, "limit must be an integer from 1 to 1000"),
        (
            {"filters": {"created_at_start": "2025-01-01T00:00:00Z"}},
            "exceeds one year",
        ),
        ({"time_zone": "Mars/Olympus"}, "is not a tzdata zone"),
    ],
)
def test_invalid_requests_answer_400(served, body, message):
    _, http = served
    response = http.post(RAW, json=body)
    assert response.status_code == 400
    assert any(message in e for e in response.json()["error"]["errors"])


@pytest.mark.parametrize("status", [402, 403])
def test_access_can_be_switched_off(served, status):
    server, http = served
    server.analytics = AnalyticsSettings(access=status)
    for path in (RAW, SERVICES, RESPONDERS):
        response = http.post(path, json={})
        assert response.status_code == status
        assert response.json()["error"]["message"]
    assert http.get("/incidents").status_code == 200  # only Analytics is refused


def test_filters_select_what_they_name(served, account):
    _, http = served
    window = _window(account)
    everything, _ = _all_raw(http, {"filters": window, "limit": 1000})
    service_id = everything[0]["service_id"]
    body = {"filters": {**window, "service_ids": [service_id], "urgency": "high"}, "limit": 1000}
    chosen = http.post(RAW, json=body).json()["data"]
    expected = [
        r["id"] for r in everything if r["service_id"] == service_id and r["urgency"] == "high"
    ]
    assert [r["id"] for r in chosen] == expected
    majors = http.post(RAW, json={"filters": {**window, "major": True}, "limit": 1000}).json()
    assert majors["data"] and all(r["major"] for r in majors["data"])


def test_figures_follow_the_log_entries_and_the_quirks(served, account):
    """One incident, by hand from its entries: what each quirk changes."""
    server, http = served
    server.analytics = AnalyticsSettings(lag_hours=0)
    rows, _ = _all_raw(http, {"filters": _window(account), "limit": 1000})
    by_id = {r["id"]: r for r in rows}
    sim = next(
        s
        for s in reversed(account.incidents)
        if s.incident["status"] == "resolved"
        and any(
            (e.get("channel") or {}).get("notification", {}).get("type") == "email_notification"
            for e in s.log_entries
        )
        and s.id in by_id
    )
    entries = sim.log_entries
    notes = [e for e in entries if e["type"] == "notify_log_entry"]
    emails = [e for e in notes if e["channel"]["notification"]["type"] == "email_notification"]
    assert by_id[sim.id]["total_notifications"] == len(notes) - len(emails)
    server.analytics = AnalyticsSettings(lag_hours=0).without("email_notifications")
    rows, _ = _all_raw(http, {"filters": _window(account), "limit": 1000})
    row = {r["id"]: r for r in rows}[sim.id]
    assert row["total_notifications"] == len(notes)
    resolve = max(
        (e for e in entries if e["type"] == "resolve_log_entry"), key=lambda e: e["created_at"]
    )
    created = sim.incident["created_at"]
    assert row["seconds_to_resolve"] == parse_iso(resolve["created_at"]) - parse_iso(created)


def test_lag_hides_the_newest_incidents(served, account):
    server, http = served
    window = _window(account, days=3)
    lagging, _ = _all_raw(http, {"filters": window, "limit": 1000})
    server.analytics = AnalyticsSettings().without("lag")
    current, _ = _all_raw(http, {"filters": window, "limit": 1000})
    newest = max(r["created_at"] for r in lagging)
    assert len(current) > len(lagging)
    assert newest < (account.end - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S")


def test_weeks_follow_the_requested_zone_unless_the_quirk_says_account(served, account):
    server, http = served
    body = {"filters": _window(account), "aggregate_unit": "week", "time_zone": "Asia/Tokyo"}
    server.analytics = AnalyticsSettings(account_time_zone="America/New_York")
    quirky = http.post(SERVICES, json=body).json()
    assert quirky["time_zone"] == "America/New_York"
    server.analytics = server.analytics.without("weeks_in_account_zone")
    honest = http.post(SERVICES, json=body).json()
    assert honest["time_zone"] == "Asia/Tokyo"
    assert {r["range_start"][11:] for r in honest["data"]} == {"00:00:00"}
    raw, _ = _all_raw(http, {"filters": _window(account), "limit": 1000})
    assert sum(r["total_incident_count"] for r in honest["data"]) == len(raw)


def test_responders_add_up_the_incidents(served, account):
    server, http = served
    window = _window(account)
    raw, _ = _all_raw(http, {"filters": window, "limit": 1000})
    names = {
        "date_range_start": window["created_at_start"],
        "date_range_end": window["created_at_end"],
    }
    (totals,) = http.post(RESPONDERS, json={"filters": names}).json()["data"]
    assert totals["total_notifications"] == sum(r["total_notifications"] for r in raw)
    assert totals["total_engaged_seconds"] == sum(r["engaged_seconds"] for r in raw)
    assert 0 < totals["total_seconds_on_call_level_1"] <= totals["total_seconds_on_call"]
