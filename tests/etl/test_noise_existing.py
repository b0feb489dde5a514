"""Recommendations never propose what the account already has (docs/grouping.md "Already
configured"): hand-made accounts through the real build (SQL models, noise step, checks)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from etl.noise.existing import ExistingConfig
from etl.noise.group_rule import _group_recommendation
from etl.noise.outputs import write_recommendations
from etl.noise.rules import _constant_part, _described
from etl.transform import build_marts
from tests.etl.models_support import T0, RawAccount, at, base_account, default_config, fetch, iso

WEEK = 7 * 86400
NIGHT = -9 * 3600  # Monday 03:00 UTC, nine hours before T0


def _transient(account: RawAccount, service_id: str, title: str) -> None:
    """Six incidents that resolve on their own within a minute, at scattered hours."""
    for n in range(6):
        incident_id = f"T{service_id[-1]}{n}"
        created = at(n * 86400 + n * 3700)
        account.incident(
            incident_id, created, service_id=service_id, title=title, resolved_at=created
        )
        account.auto_resolve(incident_id, created + timedelta(seconds=60))


def _nightly(account: RawAccount, service_id: str, title: str, resolve_after: int = 1200) -> None:
    """Six Monday 03:00 incidents nobody acknowledges, in six weeks: a maintenance window."""
    for week in range(6):
        incident_id = f"M{service_id[-1]}{week}"
        created = at(NIGHT + week * WEEK)
        done = created + timedelta(seconds=resolve_after)
        account.incident(incident_id, created, service_id=service_id, title=title, resolved_at=done)
        account.auto_resolve(incident_id, done)


def _window(account: RawAccount, window_id: str, service_id: str, start, end) -> None:
    account._add(
        "maintenance_windows",
        {
            "id": window_id,
            "type": "maintenance_window",
            "start_time": iso(start),
            "end_time": iso(end),
            "description": "booked by the team",
            "services": [{"id": service_id, "type": "service_reference"}],
        },
    )


def _configured_account() -> RawAccount:
    """PSVC001: transient and never acknowledged, with auto-pause on and constant low urgency.
    PSVC002: a Monday-night pattern whose four next occurrences are all booked. PSVC003: the
    same pattern, only its first next occurrence booked, and an auto-resolve timeout that
    closes every incident (a setting that distorts MTTR)."""
    account = base_account()
    account.rows["services"][0].update(
        auto_pause_notifications_parameters={"enabled": True, "timeout": 120},
        incident_urgency_rule={"type": "constant", "urgency": "low"},
    )
    account.service("PSVC002", "PTEAM01", "batch")
    account.service("PSVC003", "PTEAM01", "backup").update(auto_resolve_timeout=1200)
    _transient(account, "PSVC001", "Health check flapped")
    _nightly(account, "PSVC002", "[FIRING:3] Batch queue stalled")
    _nightly(account, "PSVC003", "[FIRING:2] Target disappeared from discovery")
    last = at(NIGHT + 5 * WEEK)
    _window(account, "PMW0001", "PSVC002", last + timedelta(hours=1), last + timedelta(days=30))
    _window(
        account,
        "PMW0002",
        "PSVC003",
        last + timedelta(hours=1),
        last + timedelta(days=7, minutes=10),
    )
    return account


def _build(account: RawAccount, skip_windows: bool = False) -> tuple:
    con = duckdb.connect()
    account.write(con)
    account.sync_run(con, T0 - timedelta(days=30), T0 + timedelta(days=60))
    if skip_windows:
        con.execute(
            "insert into _sync_skips values "
            "('run-1', 'maintenance_windows', '/maintenance_windows', 402, 'Upgrade your plan')"
        )
    return con, build_marts(con, default_config())


def _by_kind(con, table: str) -> dict[tuple[str, str], dict]:
    return {(r["kind"], r["service_id"]): r for r in fetch(con, f"select * from {table}")}  # noqa: S608


def test_settings_already_on_are_not_proposed_and_are_counted(tmp_path: Path) -> None:
    con, summary = _build(_configured_account())
    made = _by_kind(con, "recommendations")
    already = _by_kind(con, "recommendations_already_on")
    assert set(already) == {
        ("pause_transient", "PSVC001"),
        ("stop_paging", "PSVC001"),
        ("maintenance_window", "PSVC002"),
    }
    assert "120 s" in already[("pause_transient", "PSVC001")]["configured"]
    assert summary.noise["already_on"] == 3
    assert not [k for k in made if k[1] == "PSVC001"]
    # PSVC002's window is booked; the next rule (stop paging) still applies.
    assert ("maintenance_window", "PSVC002") not in made
    assert ("stop_paging", "PSVC002") in made
    # PSVC003: the booked first occurrence is dropped, the other three are proposed.
    partial = made[("maintenance_window", "PSVC003")]
    posts = [
        a
        for a in json.loads(partial["config_artifacts"])
        if a.get("path") == "/maintenance_windows"
    ]
    assert len(posts) == 3
    evidence = json.loads(partial["evidence"])
    assert evidence["occurrences_already_booked"] == 1
    assert evidence["existing_maintenance_windows"].startswith("1 synced window")
    flag = evidence["settings_distorting_metrics"]["PSVC003"]
    assert flag["auto_resolve_distorts_mttr"] is True
    description = posts[0]["body"]["maintenance_window"]["description"]
    assert description.endswith("for [FIRING:…] Target disappeared from discovery")
    con.execute(f"attach '{tmp_path / 'w.duckdb'}' as out")
    con.execute("copy from database memory to out")
    con.close()
    files = write_recommendations(tmp_path / "w.duckdb", tmp_path / "md")
    text = "".join(p.read_text() for p in files if p.suffix == ".md")
    assert text.count("already configured: `") == 3
    assert "Setting distorting the metrics on PSVC003" in text


def test_unread_maintenance_windows_are_unknown_not_none() -> None:
    account = _configured_account()
    account.rows["maintenance_windows"].clear()
    con, summary = _build(account, skip_windows=True)
    made = _by_kind(con, "recommendations")
    evidence = json.loads(made[("maintenance_window", "PSVC003")]["evidence"])
    assert evidence["existing_maintenance_windows"].startswith("unknown: the last sync could not")
    assert evidence["occurrences_already_booked"] == 0


def test_a_warehouse_without_the_configuration_tables_still_recommends() -> None:
    """Older warehouses: no stg_service_settings, windows, flags or skips tables."""
    con, _ = _build(_configured_account())
    from etl.noise import build_noise_marts

    for table in (
        "service_setting_flags",
        "skipped_resources",
        "stg_maintenance_windows",
        "stg_service_settings",
    ):
        con.execute(f"drop table {table}")  # noqa: S608 - fixed names
    result = build_noise_marts(con, default_config())
    assert result["already_on"] == 0
    made = _by_kind(con, "recommendations")
    assert ("pause_transient", "PSVC001") in made
    evidence = json.loads(made[("maintenance_window", "PSVC002")]["evidence"])
    assert evidence["existing_maintenance_windows"].startswith("unknown: this warehouse")


def _group_members() -> pd.DataFrame:
    rows = []
    for n, service in enumerate(("PA", "PB", "PA", "PB")):
        rows.append(
            {
                "incident_id": f"G{n}",
                "occurrence_id": f"O{n // 2}",
                "created_at": pd.Timestamp(T0) + pd.Timedelta(minutes=n),
                "service_id": service,
                "service_name": service.lower(),
                "team_id": "PTEAM01",
                "team_name": "Payments",
                "template": f"{service} down",
                "is_major": False,
                "auto_resolved": False,
                "seconds_to_resolve": 600.0,
                "first_ack_at": pd.NaT,
                "is_flapping": False,
                "sleep_interruptions": 0,
                "total_notifications": 1,
                "alert_count": 1,
                "html_url": "https://acme.pagerduty.com/incidents/G",
            }
        )
    return pd.DataFrame(rows)


def test_group_alerts_is_skipped_only_when_every_service_groups() -> None:
    from etl.config import Config
    from etl.noise import NoiseSettings, Replay

    members = _group_members()
    group = {
        "group_id": "G1",
        "templates": ["PA down", "PB down"],
        "alert_types": 2,
        "occurrences": 2,
        "p50_spread_seconds": 60.0,
        "p90_spread_seconds": 60.0,
        "cohesion": 1.0,
    }
    replay = Replay(members, None, Config(), 4)
    both = ExistingConfig(
        settings={
            "PA": {"alert_grouping_type": "intelligent", "alert_grouping_window_seconds": 300},
            "PB": {"alert_grouping_type": "alert_grouping_setting_reference"},
        }
    )
    (row,) = _group_recommendation(group, members, replay, NoiseSettings(), both)
    assert row["kind"] == "group_alerts" and "Alert Grouping Setting" in row["configured"]
    one = ExistingConfig(settings={"PA": {"alert_grouping_type": "time"}})
    (row,) = _group_recommendation(group, members, replay, NoiseSettings(), one)
    assert json.loads(row["evidence"])["services_already_grouping"] == {"PA": "time grouping"}


def test_constant_part_and_description_read_as_text() -> None:
    template = "[FIRING:<*>] Target disappeared from Prometheus target discovery"
    assert _constant_part(template) == "Target disappeared from Prometheus target discovery"
    assert _described(template) == "[FIRING:…] Target disappeared from Prometheus target discovery"
    assert _constant_part("disk <*> full (<*>)") == "disk"
    assert _constant_part("<*>") == "<*>"


def test_identity_source_outside_the_known_integrations_fails_a_check() -> None:
    from etl.checks import run_checks

    con, summary = _build(_configured_account())
    names = {c.name for c in summary.checks}
    assert {
        "accepted_values:int_incident_noise.identity_source",
        "accepted_values:alert_templates.identity_source",
    } <= names
    con.execute("update alert_templates set identity_source = 'pagertree'")
    con.execute("update int_incident_noise set identity_source = 'pagertree'")
    failed = {c.name: c.failing_rows for c in run_checks(con) if not c.passed}
    assert failed["accepted_values:alert_templates.identity_source"] > 0
    assert failed["accepted_values:int_incident_noise.identity_source"] > 0
