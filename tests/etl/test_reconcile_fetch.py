"""Reconcile's HTTP side against the simulated PagerDuty: one-year chunks, cursor paging and
the requests actually sent (the server's request log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from etl.pd_client import PagerDutyClient
from etl.reconcile import fetch
from etl.reconcile.fetch import RAW_INCIDENTS, RESPONDER_METRICS, SERVICE_METRICS, year_chunks
from simulator.analytics import AnalyticsSettings


def test_year_chunks_cover_the_period_without_gaps():
    since, until = datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    chunks = year_chunks(since, until)
    assert chunks[0][0] == since and chunks[-1][1] == until
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    assert [end - start for start, end in chunks] == [
        timedelta(days=364),
        timedelta(days=364),
        until - since - timedelta(days=728),
    ]
    assert year_chunks(until, until) == []
    # Cut at Monday 00:00 local time, across summer time in Berlin.
    berlin = year_chunks(
        datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")), until, "Europe/Berlin"
    )
    assert {(s.weekday(), s.hour, s.minute) for s, _ in berlin} == {(0, 0, 0)}


def test_a_long_period_is_fetched_in_years_and_pages(sim_server, sim_account, monkeypatch):
    monkeypatch.setattr(fetch, "PAGE_LIMIT", 40)
    sim_server.analytics = AnalyticsSettings().without("lag")
    until = sim_account.end
    since = until - timedelta(days=800)
    with PagerDutyClient(sim_server.token, base_url=sim_server.url) as client:
        result = fetch.fetch_analytics(client, since, until, "UTC")
    incidents = len(sim_account.incidents)
    assert [r["id"] for r in result.raw_incidents] == [s.id for s in sim_account.incidents]
    posts = [r for r in sim_server.request_log if r.method == "POST"]
    by_path = {path: sum(1 for r in posts if r.path == path) for path in fetch.ENDPOINTS}
    # Three one-year chunks; the last holds every incident, paged 40 at a time.
    assert by_path == {
        RAW_INCIDENTS: 2 + -(-incidents // 40),
        SERVICE_METRICS: 3,
        RESPONDER_METRICS: 3,
    }
    assert result.requests == len(posts) and result.refused == {}
    assert all(r.status == 200 for r in posts)


@pytest.mark.parametrize("status", [402, 403])
def test_a_refused_endpoint_is_recorded_not_raised(sim_server, sim_account, status):
    sim_server.analytics = AnalyticsSettings(access=status)
    with PagerDutyClient(sim_server.token, base_url=sim_server.url) as client:
        result = fetch.fetch_analytics(client, sim_account.start, sim_account.end, "UTC")
    assert set(result.refused) == set(fetch.ENDPOINTS)
    assert all(
        why.startswith(f"HTTP {status}: POST /analytics/") for why in result.refused.values()
    )
    assert len(sim_server.request_log) == 3  # one probe each, no retries


def test_without_a_warehouse_nothing_is_requested(sim_server, sim_account, tmp_path):
    from etl.queries import WarehouseMissing
    from etl.reconcile import run_reconcile

    with pytest.raises(WarehouseMissing, match="no warehouse at"):
        run_reconcile(
            tmp_path / "missing.duckdb",
            api_url=sim_server.url,
            token=sim_server.token,
            since=sim_account.start,
            until=sim_account.end,
        )
    assert sim_server.request_log == []
