"""Cached data functions: the only way pages reach the warehouse.

One read-only :class:`~etl.queries.Reader` per warehouse path lives in ``st.cache_resource``; it
reopens its connection when a sync republishes the file. Query results live in
``st.cache_data`` with a TTL, keyed on ``reader.version`` (the published file's identity), so a
republished warehouse is picked up on the next rerun and a half-built one is never seen (writers
publish by atomic rename). Queries are run by name through ``Reader.query`` (their SQL is in
``etl/queries/sql/dashboard/``); this module only caches and reshapes their frames. Words for the
pages are in :mod:`dashboard.labels`, the report download in :mod:`dashboard.report_download`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.selection import NO_PRIORITY, FilterChoices, Filters  # noqa: F401 - re-exported
from etl.config import Config, ConfigError, default_db_path, load_config
from etl.queries import MART_TABLES, TEMPLATE_COUNT_COLUMN, Reader, WarehouseMissing
from etl.queries import sync_failures as read_sync_failures

# Long enough to make reruns instant, short enough that an idle dashboard catches up with a
# nightly sync even if the file identity check were to miss (it is also in the cache key).
CACHE_TTL_SECONDS = 600


class WarehouseState(Enum):
    """What the dashboard can show for the configured warehouse path."""

    MISSING = "missing"  # no file: the first sync has not run
    UNBUILT = "unbuilt"  # raw tables only: no successful build yet
    READY = "ready"


def db_path() -> str:
    """The warehouse path: ``-- --db PATH`` after ``streamlit run``, else $PAGERLENS_DB/default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    # parse_known_args: under AppTest/pytest, argv holds the test runner's own options.
    known, _ = parser.parse_known_args(sys.argv[1:])
    path = known.db or os.environ.get("PAGERLENS_DB") or str(default_db_path())
    return str(Path(path).expanduser().resolve())


@st.cache_resource(show_spinner=False)
def get_reader(path: str) -> Reader:
    """The one read-only reader for ``path``, shared by every session."""
    return Reader(path)


@st.cache_resource(show_spinner=False)
def config() -> Config:
    """The configuration (reporting time zone, thresholds); defaults if the file is invalid."""
    try:
        return load_config()
    except ConfigError:
        # The dashboard only needs the reporting time zone; a bad file is reported by the CLI.
        return Config()


def reporting_time_zone() -> str:
    """The zone weeks and date filters are expressed in."""
    return config().reporting_time_zone


def version(path: str) -> tuple[int, int] | None:
    """The published file's identity: part of every cache key."""
    return get_reader(path).version


def warehouse_state(path: str) -> WarehouseState:
    """Whether the warehouse exists and has its marts (cached per published version)."""
    return _warehouse_state(path, version(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _warehouse_state(path: str, version_key: Any) -> WarehouseState:
    reader = get_reader(path)
    try:
        if not all(reader.has_table(t) for t in MART_TABLES[:5]):
            return WarehouseState.UNBUILT
    except WarehouseMissing:
        return WarehouseState.MISSING
    return WarehouseState.READY


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def has_table(path: str, version_key: Any, table: str) -> bool:
    """Whether an optional table (noise marts, bookkeeping, models) exists in this build."""
    try:
        return get_reader(path).has_table(table)
    except WarehouseMissing:
        return False


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=1024)
def _query(path: str, version_key: Any, name: str, kwargs: dict[str, Any]) -> Any:
    # version_key is unused in the body on purpose: it is part of the cache key.
    return get_reader(path).query(f"dashboard/{name}", **kwargs)


def query(name: str, **kwargs: Any) -> pd.DataFrame | None:
    """Run ``etl/queries/sql/dashboard/<name>.sql`` on the configured warehouse, cached.

    ``None`` when the query reads an optional table this warehouse lacks.
    """
    path = db_path()
    return _query(path, version(path), name, kwargs)


# --------------------------------------------------------------------------- filters' inputs


def filter_choices() -> FilterChoices:
    """Teams, services, urgencies, priorities and the data period, for the sidebar."""
    pairs = query("filter_options")
    period = query("data_period")
    zone = ZoneInfo(reporting_time_zone())
    first = period["first_created_at"].iloc[0]
    last = period["last_created_at"].iloc[0]
    today = datetime.now(UTC).astimezone(zone).date()
    first_day = pd.Timestamp(first).tz_convert(zone).date() if pd.notna(first) else today
    last_day = pd.Timestamp(last).tz_convert(zone).date() if pd.notna(last) else today
    teams = {
        str(r.team_id): str(r.team_name if pd.notna(r.team_name) else r.team_id)
        for r in pairs.itertuples()
        if pd.notna(r.team_id)
    }
    services = {str(r.service_id): str(r.service_name) for r in pairs.itertuples()}
    service_team = {
        str(r.service_id): str(r.team_id) for r in pairs.itertuples() if pd.notna(r.team_id)
    }
    urgencies = query("urgencies")["urgency"].tolist()
    priorities = {
        str(r.priority_id): str(r.priority_name) for r in query("priorities").itertuples()
    }
    return FilterChoices(
        teams, services, service_team, urgencies, first_day, last_day, priorities, _custom_fields()
    )


def _custom_fields() -> dict[str, tuple[str, tuple[str, ...]]]:
    """{field name: (display name, values)}; empty without custom fields (or their table)."""
    rows = query("custom_field_values")
    if rows is None:
        return {}
    fields: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, group in rows.groupby("field_name", sort=False):
        fields[str(name)] = (str(group["display_name"].iloc[0]), tuple(map(str, group["value"])))
    return fields


# --------------------------------------------------------------------------- page data


def _incident_args(f: Filters) -> dict[str, Any]:
    return f.incident_args(reporting_time_zone())


def weekly_overview(f: Filters) -> pd.DataFrame:
    """One row per week of the range: incident metrics, interruptions and account up-time."""
    start_week, end_week, _ = f.weeks()
    tz = reporting_time_zone()
    weeks = pd.DataFrame({"week_start": pd.date_range(start_week, end_week, freq="7D")})
    incidents = query("weekly_incidents", **_incident_args(f))
    interruptions = query(
        "weekly_interruptions_by_service",
        start_week=start_week,
        end_week=end_week,
        team_ids=list(f.team_ids),
        service_ids=list(f.service_ids),
    )
    frame = weeks.merge(_dated(incidents), on="week_start", how="left")
    frame = frame.merge(_dated(interruptions), on="week_start", how="left")
    uptime = query(
        "weekly_account_uptime", start_week=start_week, end_week=end_week, reporting_time_zone=tz
    )
    if uptime is not None:
        frame = frame.merge(_dated(uptime), on="week_start", how="left")
    else:
        frame["up_time_pct"] = float("nan")
    counts = [c for c in frame.columns if c.startswith("total_")]
    frame[counts] = frame[counts].fillna(0)
    return frame


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.as_unit("ns")
    return frame


def headline(weekly: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The last week of the range and the week before (None when absent)."""
    if weekly.empty:
        return None, None
    last = weekly.iloc[-1]
    previous = weekly.iloc[-2] if len(weekly) > 1 else None
    return last, previous


# The columns naming each grain's group, ahead of the shared metrics of group_metrics.sql.
_GROUP_COLUMNS = {
    "team": {"group_id": "team_id", "team_name": "team_name", "service_count": "service_count"},
    "service": {
        "group_id": "service_id",
        "service_name": "service_name",
        "team_id": "team_id",
        "team_name": "team_name",
    },
}
_GROUP_ONLY = ("group_id", "group_name", "service_name", "team_id", "team_name", "service_count")


def _group_metrics(grain: str, args: dict[str, Any], f: Filters) -> pd.DataFrame:
    start_week, end_week, week_count = f.weeks()
    frame = query(
        "group_metrics",
        grain=grain,
        start_week=start_week,
        end_week=end_week,
        week_count=max(week_count, 1),
        **args,
    )
    names = _GROUP_COLUMNS[grain]
    metrics = [c for c in frame.columns if c not in _GROUP_ONLY]
    return frame[[*names, *metrics]].rename(columns=names)


def team_metrics(f: Filters) -> pd.DataFrame:
    """Per team over the range."""
    return _group_metrics("team", _incident_args(f), f)


def service_metrics(f: Filters, team_id: str | None = None) -> pd.DataFrame:
    """Per service over the range; only the services of ``team_id`` when given."""
    args = _incident_args(f)
    if team_id is not None:
        args["team_ids"] = [team_id]
    return _group_metrics("service", args, f)


def incident_list(
    f: Filters, *, team_id: str | None = None, service_id: str | None = None, limit: int = 500
) -> pd.DataFrame:
    """The newest incidents of the view, optionally narrowed to one team or service."""
    args = _incident_args(f)
    if team_id is not None:
        args["team_ids"] = [team_id]
    if service_id is not None:
        args["service_ids"] = [service_id]
    return query("incident_list", limit=limit, **args)


def responders(f: Filters) -> pd.DataFrame:
    """Per responder: load, latest health score, overloaded weeks (team filter applies)."""
    start_week, end_week, _ = f.weeks()
    return query("responders", start_week=start_week, end_week=end_week, team_ids=list(f.team_ids))


def interruption_heatmap(f: Filters, user_ids: list[str]) -> pd.DataFrame | None:
    """Interruptions by local weekday and hour; None when the interruptions model is absent."""
    args = _incident_args(f)
    # Interruptions are per notification, kept without the incident's urgency or priority.
    args.pop("urgencies")
    args.pop("priority_ids")
    args.pop("custom_field")
    args.pop("custom_values")
    return query("interruption_heatmap", user_ids=list(user_ids), **args)


def alert_templates(f: Filters) -> pd.DataFrame | None:
    """Alert types of the view's services, noisiest first; None before the noise marts exist."""
    frame = query(
        "alert_templates",
        team_ids=list(f.team_ids),
        service_ids=list(f.service_ids),
    )
    if frame is None:
        return None
    return frame.sort_values([TEMPLATE_COUNT_COLUMN], ascending=False)


def recommendations(f: Filters) -> pd.DataFrame | None:
    """Recommendations for the view's teams and services; None before the noise marts exist."""
    return query(
        "recommendations",
        team_ids=list(f.team_ids),
        service_ids=list(f.service_ids),
    )


def alert_groups() -> pd.DataFrame | None:
    """Groups of alert types that fire together; None before the noise marts exist."""
    return query("alert_groups")


def impact_windows(f: Filters) -> pd.DataFrame | None:
    """Impact windows overlapping the range; None when the table is absent."""
    start_ts, end_ts = f.instants(reporting_time_zone())
    return query(
        "impact_windows",
        start_ts=start_ts,
        end_ts=end_ts,
        service_ids=list(f.service_ids),
    )


# A browser draws a few hundred timeline bars quickly and ten thousand slowly (a year of a
# 200-service account has ~50k service windows); beyond this the chart shows the longest.
TIMELINE_MAX_WINDOWS = 400


def timeline_windows(windows: pd.DataFrame, limit: int = TIMELINE_MAX_WINDOWS) -> pd.DataFrame:
    """Every account-wide window plus the ``limit`` longest service windows, in time order."""
    account = windows[windows["scope"] == "account"]
    service = windows[windows["scope"] != "account"]
    if len(service) > limit:
        service = service.nlargest(limit, "duration_seconds")
    return pd.concat([account, service]).sort_values(["window_start", "scope"])


def major_free_streaks() -> dict[str, Any] | None:
    """Current and longest stretch without a major incident (the major_free_streaks mart)."""
    mart = query("major_free_streaks")
    if mart is None or mart.empty:
        return None
    row = mart.iloc[0]
    return {
        "current_seconds": float(row["current_streak_seconds"] or 0),
        "current_since": row["current_streak_start"],
        "longest_seconds": float(row["longest_streak_seconds"] or 0),
        "longest_start": row["longest_streak_start"],
        "longest_end": row["longest_streak_end"],
    }


def stale_open_majors() -> pd.DataFrame:
    """Major incidents open longer than the configured days (the stale_open_majors mart, the one
    definition; empty for a warehouse built before it)."""
    mart = query("stale_open_majors")
    return mart if mart is not None else pd.DataFrame(columns=["incident_number", "title"])


def report_weeks() -> list[date]:
    """Weeks with incidents, newest first, for the report picker."""
    return [pd.Timestamp(w).date() for w in query("weeks")["week_start"]]


def sync_runs(limit: int = 20) -> pd.DataFrame | None:
    """Recent sync runs; None when the bookkeeping table is absent."""
    return query("sync_runs", limit=limit)


def sync_failures(limit: int = 20) -> pd.DataFrame:
    """Failed sync runs, newest first. Not cached: a failed run does not republish the
    warehouse, so the published version would not tell the cache that one was noted."""
    return read_sync_failures(get_reader(db_path()), limit=limit)


def reject_summary() -> pd.DataFrame | None:
    """Rejected records by source and reason."""
    return query("reject_summary")


def reject_samples(limit: int = 200) -> pd.DataFrame | None:
    """The latest rejected records."""
    return query("reject_samples", limit=limit)


# --------------------------------------------------------------------------- page helpers


def replay_savings(recs: pd.DataFrame) -> dict[str, float]:
    """Totals of the replay over the shown recommendations (before minus after)."""

    def saved(before: str, after: str) -> float:
        if before not in recs or after not in recs:
            return float("nan")
        return float((recs[before].fillna(0) - recs[after].fillna(0)).sum())

    pages = float(recs["pages_saved"].fillna(0).sum()) if "pages_saved" in recs else float("nan")
    return {
        "pages_saved": pages,
        "incidents_saved": saved("incidents_before", "incidents_after"),
        "notifications_saved": saved("notifications_before", "notifications_after"),
        "sleep_saved": saved("sleep_interruptions_before", "sleep_interruptions_after"),
    }


_RECOMMENDATION_COLUMNS = (
    "recommendation_id",
    "title",
    "team_name",
    "service_name",
    "kind",
    "risk",
    "pages_saved",
    "incidents_before",
    "incidents_after",
    "sleep_interruptions_before",
    "sleep_interruptions_after",
    "major_incidents_affected",
)


def recommendation_summary(recs: pd.DataFrame) -> pd.DataFrame:
    """The columns of the recommendations table that fit one line each."""
    return recs[[c for c in _RECOMMENDATION_COLUMNS if c in recs.columns]]


def alert_groups_for_display(groups: pd.DataFrame) -> pd.DataFrame:
    """Alert groups with list cells joined into text (service ids shown as names)."""
    services = filter_choices().services
    # Ids and model internals are for joins and audits; names are shown instead.
    hidden = {"member_template_ids", "team_ids", "model", "quality"}
    if "service_names" in groups.columns:
        hidden.add("service_ids")
    shown = groups.drop(columns=[c for c in groups.columns if c in hidden])
    for column in shown.columns:
        values = shown[column]
        if values.map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            mapper = services if column == "service_ids" else {}
            shown[column] = values.map(
                lambda v, m=mapper: " | ".join(str(m.get(x, x)) for x in _as_list(v))
            )
    return shown


def _as_list(value: object) -> list:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return list(value)
    return [] if value is None else [value]


def records_fetched(records_json: object) -> pd.DataFrame:
    """The per-resource record counts of a sync run as a two-column table."""
    try:
        parsed = json.loads(records_json) if isinstance(records_json, str) else records_json
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return pd.DataFrame(columns=["resource", "records"])
    return pd.DataFrame([{"resource": str(k), "records": v} for k, v in sorted(parsed.items())])
