"""``pagerlens reconcile`` on the simulated account: every planted difference gets its reason.

The account is the session's small account with integration acknowledgements planted
(:func:`simulator.analytics_plant.with_integration_acks`), synced through the real pipeline
once; each test then changes the simulator's Analytics settings (quirks, access, a tampered
value) and reconciles against the same warehouse.
"""

from __future__ import annotations

import json
import re

import pytest

from etl.cli import main
from etl.reconcile import reasons as r
from etl.reconcile import run_reconcile
from etl.reconcile.weekly import INTERRUPTION_WEEK
from etl.sync import run_sync
from simulator.analytics import QUIRKS, AnalyticsSettings
from simulator.analytics_plant import with_integration_acks
from simulator.server import SimServer

# Which reason each simulator quirk shows up as.
QUIRK_REASONS = {
    "integration_acks": r.INTEGRATION_ACK,
    "lag": r.ANALYTICS_LAG,
    "email_notifications": r.EMAIL_NOTIFICATIONS,
    "interruptions_per_notification": r.INTERRUPTION_DEFINITION,
    "negative_durations": r.INVALID_TIMING,
    "weeks_in_account_zone": r.WEEK_TIME_ZONE,
    "merged_incidents": r.MERGED_INCIDENT,
}


@pytest.fixture(scope="module")
def reconciled_account(sim_account, tmp_path_factory):
    """(server, warehouse path) of the planted account, synced once."""
    account = with_integration_acks(sim_account)
    db = tmp_path_factory.mktemp("reconcile") / "pagerlens.duckdb"
    with SimServer(account) as server:
        run_sync(db, api_url=server.url, token=server.token, since=account.start, until=account.end)
        yield server, db


def _expected_compared(account) -> dict[str, int]:
    """Every incident of the synced period, and every service x week (UTC) with one."""
    weeks = {
        (sim.incident["service"]["id"], (sim.created_epoch - 4 * 86400) // (7 * 86400))
        for sim in account.incidents  # the epoch began on a Thursday: shift to Mondays
    }
    return {"incidents": len(account.incidents), "service-weeks": len(weeks), "responder totals": 1}


def _reconcile(reconciled_account, settings: AnalyticsSettings, out_dir=None):
    server, db = reconciled_account
    server.analytics = settings
    account = server.account
    return run_reconcile(
        db,
        api_url=server.url,
        token=server.token,
        since=account.start,
        until=account.end,
        out_dir=out_dir,
    )


def test_every_planted_difference_has_its_reason(reconciled_account, tmp_path):
    result = _reconcile(reconciled_account, AnalyticsSettings(), tmp_path)
    counts = result.reason_counts()
    # UTC everywhere by default: the week's time zone plants nothing here (see the next test).
    for quirk, reason in QUIRK_REASONS.items():
        if quirk != "weeks_in_account_zone":
            assert counts.get(reason, 0) > 0, reason
    assert result.unexplained == 0, result.differences[result.differences["reason"].isna()]
    assert result.compared == _expected_compared(reconciled_account[0].account)
    # The integration acknowledgements explained are the planted ones.
    diffs = result.differences
    acked = diffs[(diffs["reason"] == r.INTEGRATION_ACK) & (diffs["scope"] == "incident")]
    planted = set(reconciled_account[0].account.ground_truth["integration_ack_incident_ids"])
    assert set(acked["key"]) <= planted and len(acked) > 0
    assert {p.name for p in result.files} == {
        "reconcile_differences.csv",
        "reconcile_summary.json",
    }


def test_week_bucketed_in_the_account_zone_is_named(reconciled_account):
    result = _reconcile(reconciled_account, AnalyticsSettings(account_time_zone="Asia/Tokyo"))
    assert result.reason_counts().get(r.WEEK_TIME_ZONE, 0) > 0
    assert result.unexplained == 0


@pytest.mark.parametrize("quirk", QUIRKS)
def test_switching_a_quirk_off_removes_its_reason(reconciled_account, quirk):
    settings = AnalyticsSettings(account_time_zone="Asia/Tokyo").without(quirk)
    result = _reconcile(reconciled_account, settings)
    counts = result.reason_counts()
    assert counts.get(QUIRK_REASONS[quirk], 0) == 0, counts
    assert result.unexplained == 0, result.differences[result.differences["reason"].isna()]


def test_all_quirks_off_leaves_only_the_interruption_week(reconciled_account):
    result = _reconcile(reconciled_account, AnalyticsSettings().without(*QUIRKS))
    assert set(result.reason_counts()) <= {INTERRUPTION_WEEK}
    assert result.unexplained == 0


def test_a_wrong_value_stays_unexplained(reconciled_account):
    server, _ = reconciled_account
    victim = server.account.incidents[3].id
    settings = AnalyticsSettings(tamper={victim: {"escalation_count": 41}})
    result = _reconcile(reconciled_account, settings)
    unexplained = result.differences[result.differences["reason"].isna()]
    assert (victim, "escalation_count") in set(
        zip(unexplained["key"], unexplained["metric"], strict=True)
    )
    assert result.unexplained >= 1


@pytest.mark.parametrize("status", [402, 403])
def test_access_denied_says_what_could_not_be_compared(reconciled_account, status):
    result = _reconcile(reconciled_account, AnalyticsSettings(access=status))
    assert len(result.refused) == 3
    lines = result.summary_lines()
    assert any(
        line.startswith("could not compare incident by incident: POST /analytics/raw/incidents")
        and f"HTTP {status}" in line
        for line in lines
    ), lines
    assert result.differences.empty


def _cli(reconciled_account, monkeypatch, out_dir) -> int:
    server, db = reconciled_account
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", server.token)
    account = server.account
    return main(
        [
            "reconcile",
            "--db",
            str(db),
            "--api-url",
            server.url,
            "--since",
            account.start.date().isoformat(),
            "--until",
            account.end.date().isoformat(),
            "--out",
            str(out_dir),
        ]
    )


def test_cli_prints_the_summary_and_exits_0_when_all_is_explained(
    reconciled_account, monkeypatch, tmp_path, capsys
):
    reconciled_account[0].analytics = AnalyticsSettings()
    assert _cli(reconciled_account, monkeypatch, tmp_path) == 0
    out = capsys.readouterr().out
    counts = _expected_compared(reconciled_account[0].account)
    assert (
        f"reconcile 2026-02-16 .. 2026-03-02: {counts['incidents']} incidents, "
        f"{counts['service-weeks']} service-weeks, 1 responder totals\n"
    ) in out
    assert re.search(r"^\s+0  unexplained$", out, re.M)
    assert re.search(r"^\s+\d+  integration_ack: PagerDuty counts", out, re.M)
    written = (tmp_path / "reconcile_differences.csv").read_text().splitlines()
    assert written[0] == "scope,key,service_id,week_start,metric,ours,pagerduty,reason,detail"
    summary = json.loads((tmp_path / "reconcile_summary.json").read_text())
    assert summary["unexplained"] == 0 and summary["differences"] == len(written) - 1


def test_cli_exit_codes_say_refused_and_unexplained(
    reconciled_account, monkeypatch, tmp_path, capsys
):
    server, _ = reconciled_account
    server.analytics = AnalyticsSettings(access=403)
    assert _cli(reconciled_account, monkeypatch, tmp_path) == 3
    out = capsys.readouterr().out
    assert "could not compare service-week by service-week: POST " in out
    assert "HTTP 403" in out and server.token not in out
    victim = server.account.incidents[5].id
    server.analytics = AnalyticsSettings(tamper={victim: {"major": True, "escalation_count": 9}})
    assert _cli(reconciled_account, monkeypatch, tmp_path) == 4


@pytest.mark.parametrize(
    "metric", ["total_sleep_hour_interruptions", "mean_seconds_to_resolve", "total_notifications"]
)
def test_a_wrong_weekly_value_stays_unexplained(reconciled_account, metric):
    """Only the aggregate is wrong (PagerDuty's raw rows are right): no reason may cover it."""
    server, _ = reconciled_account
    service_id = server.account.incidents[0].incident["service"]["id"]
    settings = AnalyticsSettings(tamper_service_weeks={service_id: {metric: 987654}})
    result = _reconcile(reconciled_account, settings)
    unexplained = result.differences[result.differences["reason"].isna()]
    assert set(unexplained["scope"]) == {"service_week"}
    assert set(unexplained["metric"]) == {metric}
    assert set(unexplained["service_id"]) == {service_id}
