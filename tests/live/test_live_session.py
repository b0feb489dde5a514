"""A live session against the simulated PagerDuty equals a full sync, row for row.

The account is synced up to 8 hours before SIM_END; then the simulator plays those 8 hours
forward (accelerated), delivering signed v3 webhooks with 20 % duplicates and a jittered
order to an in-process receiver, whose worker applies them as they come, while the REST API
answers about one request in ten with 429 or a 5xx. Afterwards the
warehouse holds exactly the incidents, log entries and alerts, and the same incident marts, as
one full `pagerlens sync` of the whole period at SIM_END.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from etl.cli.live import start_listener
from etl.cli.simulated import sync_simulated
from etl.pd_client import PagerDutyClient, RateLimiter, RetryPolicy
from tests.conftest import SIM_END, SIM_SEED, TIMED_WAITS_REASON, UNDER_LIBFAKETIME
from tests.live.support import SECRET, SECRET_TEXT

LIVE_START = SIM_END - timedelta(hours=8)
COMPARED = {
    "raw_incidents": "select id, payload::varchar from raw_incidents",
    "raw_log_entries": "select id, payload::varchar from raw_log_entries",
    "raw_alerts": "select id, payload::varchar from raw_alerts",
    "incidents": "select * from incidents",
    "service_weekly": "select * from service_weekly",
    "team_weekly": "select * from team_weekly",
    "incident_weekly_by_dimension": "select * from incident_weekly_by_dimension",
    "impact_windows": "select * from impact_windows",
    "alert_templates": "select * from alert_templates",
    "alert_groups": "select * from alert_groups",
    "recommendations": "select * from recommendations",
}


@pytest.fixture(scope="module")
def account():
    from simulator.account import generate_account

    return generate_account(seed=SIM_SEED, days=2, end=SIM_END)


def rows(db) -> dict[str, set]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        # repr: some marts hold lists, which a set cannot; the text is compared exactly.
        return {
            name: {tuple(map(repr, row)) for row in con.execute(query).fetchall()}
            for name, query in COMPARED.items()
        }
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.skipif(UNDER_LIBFAKETIME, reason=TIMED_WAITS_REASON)  # the worker's poll wait
def test_live_session_equals_a_full_sync(account, tmp_path):
    from simulator.faults import FaultSpec
    from simulator.server import SimServer
    from simulator.webhooks import WebhookPlayer

    live_db, reference_db = tmp_path / "live.duckdb", tmp_path / "reference.duckdb"
    with SimServer(account, now=LIVE_START) as server:
        sync_simulated(live_db, server, LIVE_START, rate_per_minute=1e6)
        client = PagerDutyClient(
            server.token,
            base_url=server.url,
            limiter=RateLimiter(1e6),
            retry=RetryPolicy(base_delay=0.01, max_delay=0.05),
        )
        listener = start_listener(
            live_db,
            [SECRET],
            client=client,
            poll_interval=0.2,
            debounce=0.2,
            max_delay=1.0,
            clock=lambda: server.now,
        )
        server.faults = FaultSpec.parse("429=0.02,500=0.04,502=0.02,503=0.02,seed=9")
        player = WebhookPlayer(
            server,
            listener.url + "/webhooks",
            [SECRET_TEXT],
            speed=8 * 3600 / 6,
            start=LIVE_START,
            end=SIM_END,
            duplicate_rate=0.2,
            seed=3,
        )
        stats = player.run()
        listener.receiver.stop()
        listener.worker.stop()
        # What PagerDuty sends no webhook for (notifications of still-open incidents) the
        # worker's periodic refresh of open incidents picks up; here, once, at the end.
        listener.worker.apply_pending(refresh_open=True)
        status = listener.stop()  # the receiver and worker are stopped already
        faults_answered = sum(r.status in (429, 500, 502, 503) for r in server.request_log)
        server.faults = FaultSpec()
        sync_simulated(reference_db, server, SIM_END, rate_per_minute=1e6)

    assert stats.events > 20 and stats.duplicates_sent > 0 and stats.failed == 0
    assert status["pending"] == 0 and status["applied"] == stats.events
    assert status["duplicate_deliveries"] >= stats.duplicates_sent
    assert faults_answered > 0
    live, reference = rows(live_db), rows(reference_db)
    for name in COMPARED:
        assert live[name] == reference[name], name
