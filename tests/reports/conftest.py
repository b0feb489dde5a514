"""A hand-made published warehouse for the report tests (and the report benchmark's fallback).

The marts carry exactly the columns of ``../shared/specs/metrics.md`` (plus the optional
``int_interruptions`` model and the bookkeeping tables), filled with seeded synthetic rows so
the tests do not depend on the ETL. The weekly marts are aggregated from the fixture's own
incidents and interruptions with the contract's definitions, so they reconcile with
``incidents`` the way the real marts do. The data ends on Wednesday 2026-11-25, so the last
complete week is 2026-W47 (Monday 2026-11-16).

It deliberately contains hostile text (an incident title and an alert template with HTML and
script) and responder names and e-mail addresses that must never leak from an anonymized report.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.warehouse import run_models

DATA_START = datetime(2026, 8, 17, tzinfo=UTC)  # a Monday, 2026-W34
DATA_END = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday of 2026-W48
REPORT_WEEK = "2026-W47"
REPORT_WEEK_START = date(2026, 11, 16)
SYNC_FINISHED = datetime(2026, 11, 25, 12, 4, 31, tzinfo=UTC)

HOSTILE_TITLE = '<script>alert("pwned")</script> Disk <b>full</b> on db-1 & co'
HOSTILE_TEMPLATE = '<script>alert("pwned")</script> Disk <b>full</b> on <*>'

TEAMS = {"T1": "Payments", "T2": "Search", "T3": "Platform"}
SERVICES = {
    "S1": ("checkout-api", "T1"),
    "S2": ("billing-worker", "T1"),
    "S3": ("search-frontend", "T2"),
    "S4": ("indexer", "T2"),
    "S5": ("k8s-cluster", "T3"),
}
USERS = {
    "U1": ("Alice Johnson", "alice.johnson@example.com", "T1"),
    "U2": ("Bob Smith", "bob.smith@example.com", "T1"),
    "U3": ("Carla Díaz", "carla.diaz@example.com", "T2"),
    "U4": ("Dev Patel", "dev.patel@example.com", "T2"),
    "U5": ("Erin O'Brien", "erin.obrien@example.com", "T3"),
    "U6": ("Farid Haddad", "farid.haddad@example.com", "T3"),
}
TEMPLATES = [
    ("checkout-api", "S1", "High latency on checkout-api pod <*>"),
    ("billing-worker", "S2", "Queue depth above <*> on billing"),
    ("search-frontend", "S3", "5xx rate above <*>% on search-frontend"),
    ("indexer", "S4", "Indexer lag <*> seconds"),
    ("k8s-cluster", "S5", "Node <*> NotReady"),
    ("k8s-cluster", "S5", HOSTILE_TEMPLATE),
]


@dataclass
class FixtureOptions:
    """Which optional parts the fixture warehouse has."""

    noise_marts: bool = True
    incident_noise_map: bool = True  # int_incident_noise (incident -> alert type)
    interruptions_model: bool = True
    sync_runs: bool = True
    stale_open_major: bool = False
    empty_week: date | None = None  # a Monday whose incidents are removed


def _bucket(ts: datetime) -> str:
    hour = ts.hour
    if hour >= 22 or hour < 8:
        return "sleep"
    if ts.isoweekday() <= 5 and 8 <= hour < 18:
        return "business"
    return "off_hour"


def _monday(ts: datetime) -> date:
    d = ts.date()
    return d - timedelta(days=d.weekday())


def _union(
    intervals: list[tuple[datetime, datetime, str]],
) -> list[tuple[datetime, datetime, list[str]]]:
    merged: list[tuple[datetime, datetime, list[str]]] = []
    for start, end, incident_id in sorted(intervals):
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2] + [incident_id])
        else:
            merged.append((start, end, [incident_id]))
    return merged


def _impacted_seconds(windows, week: date) -> float:
    start = datetime.combine(week, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=7)
    return sum(max(0.0, (min(e, end) - max(s, start)).total_seconds()) for s, e, _ in windows)


def _stale_flags(con: duckdb.DuckDBPyConnection) -> None:
    """The data period and each incident's stale flag, which the real models compute from raw
    data (stg_data_period, incidents.is_stale_open_major): given here for hand-made rows."""
    from etl.config import Config

    days = Config().stale_open_major_days
    con.execute(
        "create or replace table stg_data_period as select ?::timestamptz as data_start, "
        "?::timestamptz as data_end",
        [DATA_START, DATA_END],
    )
    con.execute("alter table incidents add column is_stale_open_major boolean; ")
    con.execute(
        "update incidents set is_stale_open_major = is_major and resolved_at is null "
        "and epoch(?::timestamptz - created_at) > ? * 86400",
        [DATA_END, days],
    )


def build_fixture_warehouse(
    path: Path,
    seed: int = 11,
    options: FixtureOptions | None = None,
    incidents_per_week: tuple[int, int] = (12, 30),
) -> Path:
    """Write the fixture warehouse to ``path`` (overwritten) and return the path."""
    options = options or FixtureOptions()
    rng = random.Random(seed)
    path = Path(path)
    path.unlink(missing_ok=True)

    incidents = []
    interruptions = []
    number = 1000
    day = DATA_START
    while day < DATA_END:
        per_day = rng.randint(*incidents_per_week) / 7
        count = int(per_day) + (1 if rng.random() < per_day - int(per_day) else 0)
        for _ in range(count):
            created = day + timedelta(seconds=rng.randint(0, 86399))
            if created >= DATA_END:
                continue
            service_id = rng.choice(list(SERVICES))
            service_name, team_id = SERVICES[service_id]
            number += 1
            is_major = rng.random() < 0.06
            acked = rng.random() < 0.75
            ack_s = rng.uniform(20, 1800) if acked else None
            resolve_s = rng.uniform(120, 20000)
            auto = (not acked) and rng.random() < 0.8
            resolved_at = created + timedelta(seconds=resolve_s)
            status = "resolved"
            if resolved_at >= DATA_END:
                resolved_at, resolve_s, status = (
                    None,
                    None,
                    "acknowledged" if acked else "triggered",
                )
            noise_reason = None
            if auto and resolved_at is not None and not acked:
                noise_reason = "transient" if resolve_s <= 300 else "auto_resolved_unacked"
            incidents.append(
                {
                    "incident_id": f"P{number:06d}",
                    "incident_number": number,
                    "title": f"{TEMPLATES[list(SERVICES).index(service_id)][2].replace('<*>', str(rng.randint(1, 99)))}",
                    "created_at": created,
                    "first_ack_at": created + timedelta(seconds=ack_s) if ack_s else None,
                    "resolved_at": resolved_at,
                    "seconds_to_first_ack": ack_s,
                    "seconds_to_resolve": resolve_s,
                    "auto_resolved": bool(auto and resolved_at is not None),
                    "is_major": is_major,
                    "noise_reason": noise_reason,
                    "is_noise": noise_reason is not None,
                    "escalation_count": rng.randint(0, 2),
                    "total_notifications": rng.randint(1, 6),
                    "alert_count": rng.randint(1, 4),
                    "data_issue": False,
                    "service_id": service_id,
                    "service_name": service_name,
                    "team_id": team_id,
                    "team_name": TEAMS[team_id],
                    "urgency": "high" if rng.random() < 0.7 else "low",
                    "priority_name": "P1" if is_major else rng.choice(["P3", "P4", None]),
                    "status": status,
                    "html_url": f"https://example.pagerduty.com/incidents/P{number:06d}",
                }
            )
            responders = [u for u, (_, _, t) in USERS.items() if t == team_id]
            for k in range(rng.randint(0, 2)):
                started = created + timedelta(seconds=5 + 120 * k)
                user_id = rng.choice(responders)
                bucket = _bucket(started)
                night = None
                if bucket == "sleep":
                    night = (started - timedelta(hours=8)).date()
                interruptions.append(
                    {
                        "interruption_id": f"{user_id}:{len(interruptions)}",
                        "user_id": user_id,
                        "started_at": started,
                        "bucket": bucket,
                        "night_of": night,
                        "incident_id": f"P{number:06d}",
                        "service_id": service_id,
                        "team_id": team_id,
                        "week_start": _monday(started),
                    }
                )
        day += timedelta(days=1)

    # One hostile incident in the report week, and one stale open major from the start.
    hostile_created = datetime(2026, 11, 18, 3, 12, tzinfo=UTC)
    incidents.append(
        {
            **incidents[-1],
            "incident_id": "PHOSTILE",
            "incident_number": 999,
            "title": HOSTILE_TITLE,
            "created_at": hostile_created,
            "first_ack_at": hostile_created + timedelta(seconds=240),
            "resolved_at": hostile_created + timedelta(seconds=5400),
            "seconds_to_first_ack": 240.0,
            "seconds_to_resolve": 5400.0,
            "auto_resolved": False,
            "is_major": True,
            "noise_reason": None,
            "is_noise": False,
            "service_id": "S5",
            "service_name": "k8s-cluster",
            "team_id": "T3",
            "team_name": "Platform",
            "status": "resolved",
            "priority_name": "P1",
            "html_url": "https://example.pagerduty.com/incidents/PHOSTILE",
        }
    )
    if options.stale_open_major:
        stale_created = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
        incidents.append(
            {
                **incidents[-1],
                "incident_id": "PSTALE",
                "incident_number": 998,
                "title": "Payment provider timeout (still open)",
                "created_at": stale_created,
                "first_ack_at": None,
                "resolved_at": None,
                "seconds_to_first_ack": None,
                "seconds_to_resolve": None,
                "is_major": True,
                "status": "triggered",
                "service_id": "S1",
                "service_name": "checkout-api",
                "team_id": "T1",
                "team_name": "Payments",
                "priority_name": "P1",
                "html_url": "https://example.pagerduty.com/incidents/PSTALE",
            }
        )

    inc = pd.DataFrame(incidents)
    if options.empty_week is not None:
        week_of = inc["created_at"].map(_monday)
        inc = inc[week_of != options.empty_week].reset_index(drop=True)
    kept = set(inc["incident_id"])
    intr = pd.DataFrame(interruptions)
    intr = intr[intr["incident_id"].isin(kept)].reset_index(drop=True)
    inc["week_start"] = inc["created_at"].map(_monday)

    # Impact windows: unions of majors' [created_at, resolved_at or data end).
    majors = inc[inc["is_major"]]
    spans = [
        (r.created_at, r.resolved_at if pd.notna(r.resolved_at) else DATA_END, r.incident_id)
        for r in majors.itertuples()
    ]
    windows_rows = []
    account_windows = _union(
        [
            (
                s.to_pydatetime() if hasattr(s, "to_pydatetime") else s,
                e.to_pydatetime() if hasattr(e, "to_pydatetime") else e,
                i,
            )
            for s, e, i in spans
        ]
    )
    for s, e, ids in account_windows:
        windows_rows.append(
            {
                "scope": "account",
                "service_id": None,
                "window_start": s,
                "window_end": e,
                "duration_seconds": (e - s).total_seconds(),
                "incident_ids": ids,
            }
        )
    service_windows: dict[str, list] = {}
    for service_id in SERVICES:
        part = [
            (s, e, i)
            for (s, e, i), sid in zip(spans, majors["service_id"], strict=True)
            if sid == service_id
        ]
        service_windows[service_id] = _union(
            [
                (pd.Timestamp(s).to_pydatetime(), pd.Timestamp(e).to_pydatetime(), i)
                for s, e, i in part
            ]
        )
        for s, e, ids in service_windows[service_id]:
            windows_rows.append(
                {
                    "scope": "service",
                    "service_id": service_id,
                    "window_start": s,
                    "window_end": e,
                    "duration_seconds": (e - s).total_seconds(),
                    "incident_ids": ids,
                }
            )
    windows_df = pd.DataFrame(windows_rows)

    con = duckdb.connect(str(path))
    try:
        con.register("inc_df", inc)
        con.execute("create table incidents as select * from inc_df")
        con.execute("alter table incidents alter incident_number type bigint")
        con.execute("alter table incidents alter week_start type date")
        # The account's weekly headline is the real model over these incidents.
        _stale_flags(con)
        run_models(con, "incident_weekly_by_dimension", "stale_open_majors")
        con.register("intr_df", intr)
        con.execute("""
            create table int_interruptions as
            select interruption_id, user_id, started_at, bucket,
                   cast(night_of as date) as night_of, incident_id, service_id, team_id,
                   cast(week_start as date) as week_start
            from intr_df""")
        con.register("win_df", windows_df)
        con.execute("""
            create table impact_windows as
            select scope, service_id, window_start, window_end, duration_seconds,
                   cast(incident_ids as varchar[]) as incident_ids
            from win_df""")
        users_df = pd.DataFrame(
            [
                {"user_id": u, "user_name": n, "email": m, "team_id": t}
                for u, (n, m, t) in USERS.items()
            ]
        )
        con.register("users_df", users_df)
        for grain, key, name in (
            ("service", "service_id", "service_name"),
            ("team", "team_id", "team_name"),
        ):
            con.execute(f"""
                create table {grain}_weekly as
                with inc as (
                    select *, cast(date_trunc('week', created_at) as date) as week_start
                    from incidents
                ), agg as (
                    select {key}, any_value({name}) as {name}, week_start,
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
                        count(*) filter (where is_major) as total_major_incidents,
                        avg(case when is_noise then 1.0 else 0.0 end) as noise_ratio
                    from inc group by {key}, week_start
                ), intr as (
                    select {key}, week_start, count(*) as total_interruptions,
                        count(*) filter (where bucket = 'business')
                            as total_business_hour_interruptions,
                        count(*) filter (where bucket = 'off_hour') as total_off_hour_interruptions,
                        count(*) filter (where bucket = 'sleep') as total_sleep_hour_interruptions
                    from int_interruptions group by {key}, week_start
                )
                select agg.*, coalesce(intr.total_interruptions, 0) as total_interruptions,
                    coalesce(intr.total_business_hour_interruptions, 0)
                        as total_business_hour_interruptions,
                    coalesce(intr.total_off_hour_interruptions, 0) as total_off_hour_interruptions,
                    coalesce(intr.total_sleep_hour_interruptions, 0)
                        as total_sleep_hour_interruptions,
                    cast(null as double) as up_time_pct
                from agg left join intr using ({key}, week_start)
                order by week_start, {key}
            """)  # noqa: S608 - fixture DDL over fixed identifiers
        # up_time_pct from the fixture's own windows, per the contract's formula.
        for week, service_id in con.execute(
            "select week_start, service_id from service_weekly"
        ).fetchall():
            impacted = _impacted_seconds(service_windows[service_id], week)
            con.execute(
                "update service_weekly set up_time_pct = ? where week_start = ? and service_id = ?",
                [100 * (1 - impacted / 604800), week, service_id],
            )
        for week, team_id in con.execute("select week_start, team_id from team_weekly").fetchall():
            team_spans = [
                w for sid, (_, t) in SERVICES.items() if t == team_id for w in service_windows[sid]
            ]
            merged = _union([(s, e, ",".join(i)) for s, e, i in team_spans])
            impacted = _impacted_seconds(merged, week)
            con.execute(
                "update team_weekly set up_time_pct = ? where week_start = ? and team_id = ?",
                [100 * (1 - impacted / 604800), week, team_id],
            )

        con.execute("""
            create table responder_weekly as
            with intr as (
                select user_id, week_start, count(*) as total_interruptions,
                    count(*) filter (where bucket = 'business') as total_business_hour_interruptions,
                    count(*) filter (where bucket = 'off_hour') as total_off_hour_interruptions,
                    count(*) filter (where bucket = 'sleep') as total_sleep_hour_interruptions
                from int_interruptions group by all
            )
            select intr.user_id, users_df.user_name, users_df.team_id, intr.week_start,
                intr.total_interruptions, intr.total_business_hour_interruptions,
                intr.total_off_hour_interruptions, intr.total_sleep_hour_interruptions,
                intr.total_interruptions + (hash(intr.user_id || intr.week_start) % 3)::bigint
                    as total_notifications,
                greatest(intr.total_business_hour_interruptions - 1, 0) as total_incidents_acknowledged,
                1800.0 * intr.total_interruptions as total_engaged_seconds,
                302400.0 as total_seconds_on_call,
                201600.0 as total_seconds_on_call_level_1,
                100800.0 as total_seconds_on_call_level_2_plus,
                round(greatest(0.0, 100.0 - 6.0 * intr.total_off_hour_interruptions
                    - 12.0 * intr.total_sleep_hour_interruptions), 1) as health_score,
                intr.total_sleep_hour_interruptions >= 4 as overloaded,
                case when intr.total_sleep_hour_interruptions >= 4
                    then format('{} sleep interruptions this week',
                                intr.total_sleep_hour_interruptions) end as overload_reason
            from intr join users_df using (user_id)
            order by week_start, user_id
        """)
        if options.noise_marts:
            rows = []
            for k, (service_name, service_id, template) in enumerate(TEMPLATES):
                count = int((inc["service_id"] == service_id).sum()) // (2 if k == 5 else 1)
                rows.append(
                    {
                        "template_id": f"tpl{k}",
                        "template": template,
                        "service_id": service_id,
                        "service_name": service_name,
                        "incident_count": count,
                        "alert_count": count * 2,
                        "notification_count": count * 3,
                        "first_seen": DATA_START + timedelta(hours=k),
                        "last_seen": datetime(2026, 11, 20, tzinfo=UTC) - timedelta(hours=k),
                        "share_auto_resolved": round(0.15 * k, 2),
                        "share_acknowledged": round(1 - 0.15 * k, 2),
                        "median_seconds_to_resolve": 600.0 + 60 * k,
                        "share_sleep_hours": round(0.05 * k, 2),
                    }
                )
            con.register("tpl_df", pd.DataFrame(rows))
            con.execute("create table alert_templates as select * from tpl_df")
            if options.incident_noise_map:
                # Each incident's alert type is its service's template; the hostile incident has
                # the hostile template.
                con.execute("""
                    create table int_incident_noise as
                    select incident_id, created_at, service_id, team_id, title as summary,
                        case when incident_id = 'PHOSTILE' then 'tpl5'
                             else 'tpl' || (cast(substr(service_id, 2) as integer) - 1) end
                            as template_id,
                        cast(null as varchar) as template, false as is_flapping,
                        cast(null as double) as group_id, cast(null as double) as occurrence_id,
                        cast(is_major as bigint) as sleep_interruptions
                    from incidents""")
                con.execute("""
                    update int_incident_noise set template = t.template
                    from alert_templates as t where t.template_id = int_incident_noise.template_id
                """)
            con.execute("""
                create table alert_groups as
                select 'g1' as group_id, ['tpl4', 'tpl5'] as templates,
                    ['S5'] as service_ids, 40 as occurrences,
                    30.0 as spread_p50_seconds, 95.0 as spread_p90_seconds,
                    ['P001001'] as example_incidents
            """)
            recs = [
                (
                    "R1",
                    "T3",
                    "Platform",
                    "auto_pause",
                    "S5",
                    "k8s-cluster",
                    TEMPLATES[4][2],
                    "Pause notifications for 'Node <*> NotReady' for 5 minutes",
                    60,
                    22,
                    180,
                    66,
                    14,
                    3,
                    114,
                    0,
                    "low",
                ),
                (
                    "R2",
                    "T2",
                    "Search",
                    "lower_urgency",
                    "S4",
                    "indexer",
                    TEMPLATES[3][2],
                    "Make indexer lag alerts low urgency outside business hours",
                    45,
                    45,
                    120,
                    40,
                    9,
                    1,
                    80,
                    0,
                    "medium",
                ),
                (
                    "R3",
                    "T3",
                    "Platform",
                    "group_alerts",
                    "S5",
                    "k8s-cluster",
                    HOSTILE_TEMPLATE,
                    "Group " + HOSTILE_TEMPLATE,
                    30,
                    10,
                    90,
                    30,
                    5,
                    2,
                    60,
                    1,
                    "high",
                ),
            ]
            rec_df = pd.DataFrame(
                recs,
                columns=[
                    "recommendation_id",
                    "team_id",
                    "team_name",
                    "kind",
                    "service_id",
                    "service_name",
                    "template",
                    "title",
                    "incidents_before",
                    "incidents_after",
                    "notifications_before",
                    "notifications_after",
                    "sleep_interruptions_before",
                    "sleep_interruptions_after",
                    "pages_saved",
                    "major_incidents_affected",
                    "risk",
                ],
            )
            rec_df["evidence"] = [
                json.dumps({"incidents": int(r)}) for r in rec_df["incidents_before"]
            ]
            rec_df["config_snippet"] = "{}"
            con.register("rec_df", rec_df)
            con.execute("create table recommendations as select * from rec_df")
        if options.sync_runs:
            con.execute("""
                create table _sync_runs (run_id varchar, started_at timestamptz,
                    finished_at timestamptz, status varchar, api_url varchar,
                    since timestamptz, until timestamptz, mode varchar, requests bigint,
                    retries bigint, rejects bigint, records_json json,
                    duration_seconds double, message varchar)""")
            con.execute(
                "insert into _sync_runs values (?, ?, ?, 'ok', 'http://127.0.0.1:1', "
                "?, ?, 'full', 100, 0, 0, '{}', 271.0, null)",
                [
                    "run1",
                    SYNC_FINISHED - timedelta(seconds=271),
                    SYNC_FINISHED,
                    DATA_START,
                    DATA_END,
                ],
            )
            con.execute(
                "insert into _sync_runs values ('run2', ?, null, 'failed', null, null, "
                "null, 'incremental', 1, 0, 0, '{}', 1.0, 'boom')",
                [SYNC_FINISHED + timedelta(hours=1)],
            )
        if not options.interruptions_model:
            con.execute("drop table int_interruptions")
        con.execute("checkpoint")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory) -> Path:
    """The full fixture warehouse (read-only by convention: tests never write it)."""
    return build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "pagerlens.duckdb")
