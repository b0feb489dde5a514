"""A small hand-made warehouse with the mart columns of docs/metrics.md, for the dashboard tests.

The rows are generated from a seed so the tests are deterministic; weekly marts are derived
from the generated incidents with SQL so that the figures on the pages reconcile. One incident
title (and one alert template) is hostile markup, to prove it is shown as text.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl.warehouse import building
from tests.warehouse import run_models

HOSTILE_TITLE = (
    '<script>alert("pwned")</script><img src=x onerror=alert(2)> **bold** [x](javascript:alert(3))'
)
# Every test uses this last instant, so "the last week" is fixed: Monday 2026-11-16 .. 22.
DATA_END = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
WEEKS = 6

TEAMS = [("PT1", "Payments"), ("PT2", "Platform <ops>")]
SERVICES = [
    ("PS1", "checkout-api", "PT1"),
    ("PS2", "billing-worker", "PT1"),
    ("PS3", "k8s-cluster", "PT2"),
]
USERS = [
    ("PU1", "Ada Lovelace", "Europe/London", ["PT1"]),
    ("PU2", "Grace Hopper", "America/New_York", ["PT1", "PT2"]),
    ("PU3", "Linus T", None, ["PT2"]),
]


def _incidents(rng: random.Random) -> list[tuple]:
    rows = []
    start = DATA_END - timedelta(weeks=WEEKS)
    number = 1000
    for day in range(WEEKS * 7):
        for nth in range(rng.randint(1, 4)):
            number += 1
            service_id, service_name, team_id = rng.choice(SERVICES)
            team_name = dict(TEAMS)[team_id]
            created = start + timedelta(days=day, seconds=rng.randint(0, 86_399))
            acked = rng.random() < 0.7
            ack_s = rng.randint(30, 1800) if acked else None
            resolve_s = rng.randint(60, 20_000)
            # Two days before the end: a major incident nobody resolved (a stale open major).
            stale_major = day == WEEKS * 7 - 2 and nth == 0
            open_incident = number % 37 == 0 or stale_major
            auto = not acked and rng.random() < 0.6
            noise_reason = None
            if auto:
                noise_reason = "transient" if resolve_s <= 300 else "auto_resolved_unacked"
            is_major = number % 19 == 0 or stale_major
            urgency = "high" if rng.random() < 0.6 else "low"
            title = (
                HOSTILE_TITLE
                if number == 1003
                else f"{service_name}: error rate {rng.randint(1, 99)}%"
            )
            rows.append(
                (
                    f"Q{number}",
                    number,
                    title,
                    "triggered" if open_incident else "resolved",
                    urgency,
                    "P1" if is_major else "P3",
                    service_id,
                    service_name,
                    team_id,
                    team_name,
                    created,
                    created + timedelta(seconds=ack_s) if ack_s else None,
                    None if open_incident else created + timedelta(seconds=resolve_s),
                    ack_s,
                    None if open_incident else resolve_s,
                    auto and not open_incident,
                    is_major,
                    noise_reason if not open_incident else None,
                    noise_reason is not None and not open_incident,
                    rng.randint(0, 2),
                    rng.randint(1, 6),
                    rng.randint(1, 5),
                    False,
                    f"https://example.pagerduty.com/incidents/Q{number}"
                    if number != 1005
                    else "javascript:alert(1)",
                )
            )
    return rows


INCIDENT_COLUMNS = """
    incident_id varchar, incident_number bigint, title varchar, status varchar, urgency varchar,
    priority_name varchar, service_id varchar, service_name varchar, team_id varchar,
    team_name varchar, created_at timestamptz, first_ack_at timestamptz, resolved_at timestamptz,
    seconds_to_first_ack double, seconds_to_resolve double, auto_resolved boolean,
    is_major boolean, noise_reason varchar, is_noise boolean, escalation_count bigint,
    total_notifications bigint, alert_count bigint, data_issue boolean, html_url varchar
"""

WEEKLY_SELECT = """
    week_start,
    count(*) as total_incident_count,
    count(first_ack_at) as total_incidents_acknowledged,
    count(*) filter (where auto_resolved) as total_incidents_auto_resolved,
    avg(seconds_to_first_ack) as mean_seconds_to_first_ack,
    quantile_cont(seconds_to_first_ack, 0.5) as p50_seconds_to_first_ack,
    quantile_cont(seconds_to_first_ack, 0.9) as p90_seconds_to_first_ack,
    quantile_cont(seconds_to_first_ack, 0.95) as p95_seconds_to_first_ack,
    avg(seconds_to_resolve) as mean_seconds_to_resolve,
    quantile_cont(seconds_to_resolve, 0.5) as p50_seconds_to_resolve,
    quantile_cont(seconds_to_resolve, 0.9) as p90_seconds_to_resolve,
    quantile_cont(seconds_to_resolve, 0.95) as p95_seconds_to_resolve,
    sum(escalation_count) as total_escalation_count,
    sum(total_notifications) as total_notifications,
    sum(total_notifications) // 2 as total_interruptions,
    sum(total_notifications) // 6 as total_business_hour_interruptions,
    sum(total_notifications) // 6 as total_off_hour_interruptions,
    sum(total_notifications) // 2 - 2 * (sum(total_notifications) // 6)
        as total_sleep_hour_interruptions,
    count(*) filter (where is_major) as total_major_incidents,
    avg(case when is_noise then 1.0 else 0.0 end) as noise_ratio,
    100 - count(*) filter (where is_major) * 0.5 as up_time_pct
"""


def build_fixture_warehouse(path: Path, *, seed: int = 7) -> Path:
    """Publish a small warehouse with every mart and bookkeeping table filled."""
    rng = random.Random(seed)
    incidents = _incidents(rng)
    with building(path) as con:
        con.execute(f"create table incidents ({INCIDENT_COLUMNS})")
        con.executemany(f"insert into incidents values ({', '.join(['?'] * 24)})", incidents)
        con.execute("alter table incidents add column week_start date")
        con.execute(
            "update incidents set week_start = "
            "cast(date_trunc('week', created_at at time zone 'UTC') as date)"
        )
        # The real models over the hand-made incidents: the shared metric macro, the account's
        # weekly headline (for the report download) and the stale open majors.
        con.execute(
            "create table stg_data_period as select ?::timestamptz as data_start, "
            "?::timestamptz as data_end",
            [DATA_END - timedelta(weeks=WEEKS), DATA_END],
        )
        con.execute(
            "alter table incidents add column is_stale_open_major boolean; "
            "update incidents set is_stale_open_major = is_major and resolved_at is null"
        )
        run_models(con, "incident_weekly_by_dimension", "stale_open_majors")
        con.execute(f"""create table service_weekly as
            select service_id, any_value(service_name) as service_name, {WEEKLY_SELECT}
            from incidents group by service_id, week_start""")
        con.execute(f"""create table team_weekly as
            select team_id, any_value(team_name) as team_name, {WEEKLY_SELECT}
            from incidents group by team_id, week_start""")
        for user_id, name, tz, teams in USERS:
            payload = {
                "id": user_id,
                "name": name,
                "time_zone": tz,
                "teams": [{"id": t, "type": "team_reference"} for t in teams],
            }
            con.execute(
                "insert into raw_users values (?, ?, ?)", [user_id, json.dumps(payload), DATA_END]
            )
        # Interruptions: one per notified incident, spread over the users.
        con.execute("""create table int_interruptions as
            select incident_id || ':i' as interruption_id,
                case incident_number % 3 when 0 then 'PU1' when 1 then 'PU2' else 'PU3' end
                    as user_id,
                created_at as started_at,
                timezone(case incident_number % 3 when 0 then 'Europe/London'
                              when 1 then 'America/New_York' else 'UTC' end, created_at)
                    as local_started_at,
                'sleep' as bucket,
                cast(timezone(case incident_number % 3 when 0 then 'Europe/London'
                                   when 1 then 'America/New_York' else 'UTC' end, created_at)
                     - interval 8 hour as date) as night_of,
                1 as notification_count, incident_id, service_id, team_id,
                cast(date_trunc('week', created_at at time zone 'UTC') as date) as week_start
            from incidents where total_notifications > 2""")
        con.execute("""create table responder_weekly as
            select user_id, case user_id when 'PU1' then 'Ada Lovelace'
                                         when 'PU2' then 'Grace Hopper' else 'Linus T' end
                    as user_name,
                week_start,
                count(*) as total_interruptions,
                count(*) // 3 as total_business_hour_interruptions,
                count(*) // 3 as total_off_hour_interruptions,
                count(*) - 2 * (count(*) // 3) as total_sleep_hour_interruptions,
                count(*) * 2 as total_notifications,
                count(*) // 2 as total_incidents_acknowledged,
                count(*) * 900.0 as total_engaged_seconds,
                168 * 3600.0 / 3 as total_seconds_on_call,
                168 * 3600.0 / 6 as total_seconds_on_call_level_1,
                168 * 3600.0 / 6 as total_seconds_on_call_level_2_plus,
                greatest(0, 100 - count(*) * 4.0) as health_score,
                count(*) > 6 or (user_id = 'PU3' and week_start = date '2026-11-16')
                    as overloaded,
                case when count(*) > 6 or (user_id = 'PU3' and week_start = date '2026-11-16')
                    then 'sleep interruptions above the burnout threshold'
                end as overload_reason
            from int_interruptions group by user_id, week_start""")
        con.execute("""create table impact_windows as
            select 'service' as scope, service_id, created_at as window_start,
                coalesce(resolved_at, timestamptz '2026-11-23 00:00:00+00') as window_end,
                epoch(coalesce(resolved_at, timestamptz '2026-11-23 00:00:00+00'))
                    - epoch(created_at) as duration_seconds,
                [incident_id] as incident_ids
            from incidents where is_major""")
        # Account windows: the union of the service windows, merged into maximal intervals.
        con.execute("""insert into impact_windows
            with ordered as (
                select *, max(window_end) over (order by window_start rows between
                    unbounded preceding and 1 preceding) as previous_end
                from impact_windows
            ), islands as (
                select *, sum(case when previous_end >= window_start then 0 else 1 end)
                    over (order by window_start) as island
                from ordered
            )
            select 'account', null, min(window_start), max(window_end),
                epoch(max(window_end)) - epoch(min(window_start)), flatten(list(incident_ids))
            from islands group by island""")
        con.execute("create view int_impact_windows_all as select * from impact_windows")
        run_models(con, "major_free_streaks")
        con.execute("""create table alert_templates as
            select md5(t) as template_id, t as template, service_id, service_name,
                count(*) as alert_count, count(*) as incident_count,
                min(created_at) as first_seen, max(created_at) as last_seen,
                avg(case when auto_resolved then 1.0 else 0 end) as share_auto_resolved,
                avg(case when first_ack_at is not null then 1.0 else 0 end) as share_acknowledged,
                median(seconds_to_resolve) as median_seconds_to_resolve,
                0.25 as share_sleep_hours
            from (select *, case when title like '<script>%' then title
                                 else service_name || ': error rate <*>%' end as t
                  from incidents)
            group by t, service_id, service_name""")
        con.execute("""create table alert_groups as
            select 'G1' as group_id,
                ['checkout-api: error rate <*>%', 'billing-worker: error rate <*>%']
                    as member_templates,
                ['PS1', 'PS2'] as service_ids, ['checkout-api', 'billing-worker'] as service_names,
                ['PT1'] as team_ids, 2 as alert_types, 14 as occurrences,
                45.0 as p50_spread_seconds, 180.0 as p90_spread_seconds,
                timestamptz '2026-10-12 03:00:00+00' as first_seen,
                timestamptz '2026-11-20 04:00:00+00' as last_seen,
                ['Q1001', 'Q1002'] as example_incidents""")
        evidence = json.dumps(
            {
                "incidents": 12,
                "share_auto_resolved": 0.92,
                "median_seconds_to_resolve": 140,
                "note": "<b>not bold</b>",
            }
        )
        con.execute("""create table recommendations (
            recommendation_id varchar, team_id varchar, team_name varchar, kind varchar,
            service_id varchar, service_name varchar, template varchar, title varchar,
            evidence json, config_snippet varchar, incidents_before bigint,
            incidents_after bigint, notifications_before bigint, notifications_after bigint,
            sleep_interruptions_before bigint, sleep_interruptions_after bigint,
            pages_saved bigint, major_incidents_affected bigint, risk varchar)""")
        con.execute(
            """insert into recommendations values
            ('R1', 'PT1', 'Payments', 'auto_pause', 'PS1', 'checkout-api',
             'checkout-api: error rate <*>%', 'Pause transient checkout alerts for 5 minutes',
             ?, 'auto_pause_incident_notifications:\n  enabled: true\n  timeout: 300',
             40, 12, 120, 36, 9, 2, 28, 0, 'low'),
            ('R2', 'PT2', 'Platform <ops>', 'suppress', 'PS3', 'k8s-cluster', ?,
             'Suppress <script>x</script> alerts', ?, 'event_rule: suppress', 10, 0, 30, 0,
             3, 0, 10, 1, 'high')""",
            [evidence, HOSTILE_TITLE, evidence],
        )
        con.execute(
            """insert into _sync_runs values
            ('run-1', ?, ?, 'ok', 'http://127.0.0.1:9999', ?, ?, 'full', 420, 3, 2,
             '{"incidents": 120, "log_entries": 900}', 12.5, 'ok')""",
            [DATA_END, DATA_END + timedelta(seconds=12), DATA_END - timedelta(weeks=6), DATA_END],
        )
        con.execute(
            """insert into _rejects values
            ('log_entries', 'LE1', 'missing created_at', '{"id": "LE1"}', 'run-1', ?),
            ('incidents', 'Q9', 'invalid json', ?, 'run-1', ?)""",
            [DATA_END, HOSTILE_TITLE, DATA_END],
        )
    return path


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory) -> Path:
    """A published fixture warehouse shared by the dashboard tests (read-only)."""
    return build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "pagerlens.duckdb")


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory) -> Path:
    """A warehouse with only the raw schema: what exists before the first successful build."""
    path = tmp_path_factory.mktemp("empty") / "pagerlens.duckdb"
    with building(path):
        pass
    return path
