"""Cached data functions: the only way pages reach the warehouse.

One read-only :class:`~etl.queries.Reader` per warehouse path lives in ``st.cache_resource``; it
reopens its connection when a sync republishes the file. Query results live in
``st.cache_data`` with a TTL, keyed on ``reader.version`` (the published file's identity), so a
republished warehouse is picked up on the next rerun and a half-built one is never seen (writers
publish by atomic rename). All SQL is in :mod:`etl.queries.dashboard`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import streamlit as st

from etl.config import Config, ConfigError, default_db_path, load_config
from etl.queries import MART_TABLES, Reader, WarehouseMissing
from etl.queries import dashboard as queries
from etl.queries.definitions import definition as shared_definition

# Long enough to make reruns instant, short enough that an idle dashboard catches up with a
# nightly sync even if the file identity check were to miss (it is also in the cache key).
CACHE_TTL_SECONDS = 600


class WarehouseState(Enum):
    """What the dashboard can show for the configured warehouse path."""

    MISSING = "missing"  # no file: the first sync has not run
    UNBUILT = "unbuilt"  # raw tables only: no successful build yet
    READY = "ready"


@dataclass(frozen=True)
class Filters:
    """The view the user picked: a date range (inclusive, reporting time zone) and id lists.

    Empty tuples mean "all".
    """

    start: date
    end: date
    team_ids: tuple[str, ...] = ()
    service_ids: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()

    def instants(self, time_zone: str) -> tuple[datetime, datetime]:
        """``[start 00:00, end + 1 day 00:00)`` in ``time_zone`` as aware datetimes."""
        zone = ZoneInfo(time_zone)
        return (
            datetime.combine(self.start, datetime.min.time(), zone),
            datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone),
        )

    def weeks(self) -> tuple[date, date, int]:
        """Monday of the first and of the last week touched, and the number of weeks."""
        first = self.start - timedelta(days=self.start.weekday())
        last = self.end - timedelta(days=self.end.weekday())
        return first, last, (last - first).days // 7 + 1


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
    return getattr(queries, name)(get_reader(path), **kwargs)


def query(name: str, **kwargs: Any) -> Any:
    """Run ``etl.queries.dashboard.<name>`` on the configured warehouse, cached."""
    path = db_path()
    return _query(path, version(path), name, kwargs)


def optional_query(table: str, name: str, **kwargs: Any) -> pd.DataFrame | None:
    """Like :func:`query`, but ``None`` when ``table`` is absent from this warehouse."""
    path = db_path()
    if not has_table(path, version(path), table):
        return None
    return _query(path, version(path), name, kwargs)


# --------------------------------------------------------------------------- filters' inputs


@dataclass(frozen=True)
class FilterChoices:
    """What the filter widgets offer: teams, services (with their team), urgencies, period."""

    teams: dict[str, str]
    services: dict[str, str]
    service_team: dict[str, str]
    urgencies: list[str]
    first_day: date
    last_day: date


def filter_choices() -> FilterChoices:
    """Teams, services, urgencies and the data period, for the sidebar."""
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
    return FilterChoices(teams, services, service_team, query("urgencies"), first_day, last_day)


# --------------------------------------------------------------------------- page data


def _incident_args(f: Filters) -> dict[str, Any]:
    start_ts, end_ts = f.instants(reporting_time_zone())
    return {
        "start_ts": start_ts,
        "end_ts": end_ts,
        "team_ids": list(f.team_ids),
        "service_ids": list(f.service_ids),
        "urgencies": list(f.urgencies),
    }


def _week_args(f: Filters) -> dict[str, Any]:
    start_week, end_week, week_count = f.weeks()
    return {"start_week": start_week, "end_week": end_week, "week_count": week_count}


def weekly_overview(f: Filters) -> pd.DataFrame:
    """One row per week of the range: incident metrics, interruptions and account up-time."""
    start_week, end_week, _ = f.weeks()
    tz = reporting_time_zone()
    weeks = pd.DataFrame({"week_start": pd.date_range(start_week, end_week, freq="7D")})
    incidents = query("weekly_incidents", **_incident_args(f))
    interruptions = query(
        "weekly_interruptions",
        start_week=start_week,
        end_week=end_week,
        team_ids=list(f.team_ids),
        service_ids=list(f.service_ids),
    )
    frame = weeks.merge(_dated(incidents), on="week_start", how="left")
    frame = frame.merge(_dated(interruptions), on="week_start", how="left")
    if has_table(db_path(), version(db_path()), "impact_windows"):
        uptime = query(
            "weekly_account_uptime",
            start_week=start_week,
            end_week=end_week,
            reporting_time_zone=tz,
        )
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


def team_metrics(f: Filters) -> pd.DataFrame:
    """Per team over the range."""
    return query("team_metrics", **_incident_args(f), **_week_args(f))


def service_metrics(f: Filters, team_id: str | None = None) -> pd.DataFrame:
    """Per service over the range; only the services of ``team_id`` when given."""
    args = _incident_args(f)
    if team_id is not None:
        args["team_ids"] = [team_id]
    return query("service_metrics", **args, **_week_args(f))


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
    args.pop("urgencies")
    return optional_query("int_interruptions", "interruption_heatmap", user_ids=user_ids, **args)


def alert_templates(f: Filters) -> pd.DataFrame | None:
    """Alert types of the view's services, noisiest first; None before the noise marts exist."""
    frame = optional_query(
        "alert_templates",
        "alert_templates",
        team_ids=list(f.team_ids),
        service_ids=list(f.service_ids),
    )
    if frame is None:
        return None
    count = template_count_column(frame)
    return frame.sort_values([count], ascending=False) if count else frame


def template_count_column(frame: pd.DataFrame) -> str | None:
    """The column counting a template's occurrences (its name differs between builds)."""
    for name in ("incident_count", "alert_count", "occurrences", "count", "counts"):
        if name in frame.columns:
            return name
    return None


def recommendations(f: Filters) -> pd.DataFrame | None:
    """Recommendations for the view's teams and services; None before the noise marts exist."""
    return optional_query(
        "recommendations",
        "recommendations",
        team_ids=list(f.team_ids),
        service_ids=list(f.service_ids),
    )


def alert_groups() -> pd.DataFrame | None:
    """Groups of alert types that fire together; None before the noise marts exist."""
    return optional_query("alert_groups", "alert_groups")


def impact_windows(f: Filters) -> pd.DataFrame | None:
    """Impact windows overlapping the range; None when the table is absent."""
    start_ts, end_ts = f.instants(reporting_time_zone())
    return optional_query(
        "impact_windows",
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
    """Current and longest stretch without a major incident (seconds, and since when)."""
    path = db_path()
    mart = optional_query("major_free_streaks", "major_free_streaks_mart")
    if mart is not None and not mart.empty:
        row = mart.iloc[0]
        return {
            "current_seconds": float(row["current_streak_seconds"] or 0),
            "current_since": row["current_streak_start"],
            "longest_seconds": float(row["longest_streak_seconds"] or 0),
            "longest_start": row["longest_streak_start"],
            "longest_end": row["longest_streak_end"],
        }
    if not has_table(path, version(path), "impact_windows"):
        return None
    # Older warehouses without the mart: gaps between account windows, computed here.
    gaps = query("major_free_streaks")
    if gaps.empty:
        return None
    longest = gaps.loc[gaps["gap_seconds"].idxmax()]
    return {
        "current_seconds": float(gaps["gap_seconds"].iloc[-1]),
        "current_since": gaps["gap_start"].iloc[-1],
        "longest_seconds": float(longest["gap_seconds"]),
        "longest_start": longest["gap_start"],
        "longest_end": longest["gap_end"],
    }


def stale_open_majors() -> pd.DataFrame:
    """Major incidents still open (the mart's stale ones when it exists, else all open)."""
    mart = optional_query("stale_open_majors", "stale_open_majors_mart")
    return mart if mart is not None else query("stale_open_majors")


def streak_caption(streaks: dict[str, Any]) -> str:
    """When the current and the longest stretch began (and ended), in words."""
    parts = []
    if pd.notna(streaks.get("current_since")) and streaks["current_seconds"] > 0:
        parts.append(
            f"Current stretch since {pd.Timestamp(streaks['current_since']):%Y-%m-%d %H:%M}."
        )
    elif streaks["current_seconds"] == 0:
        parts.append("A major incident is open right now.")
    if pd.notna(streaks.get("longest_start")) and pd.notna(streaks.get("longest_end")):
        parts.append(
            f"Longest: {pd.Timestamp(streaks['longest_start']):%Y-%m-%d %H:%M} to "
            f"{pd.Timestamp(streaks['longest_end']):%Y-%m-%d %H:%M}."
        )
    return " ".join(parts)


def snippet_language(snippet: object) -> str:
    """``json`` when a recommendation's configuration snippet is JSON, else ``yaml``."""
    try:
        json.loads(str(snippet))
    except ValueError:
        return "yaml"
    return "json"


def report_weeks() -> list[date]:
    """Weeks with incidents, newest first, for the report picker."""
    return query("weeks")


def sync_runs(limit: int = 20) -> pd.DataFrame | None:
    """Recent sync runs; None when the bookkeeping table is absent."""
    return optional_query("_sync_runs", "sync_runs", limit=limit)


def sync_failures(limit: int = 20) -> pd.DataFrame:
    """Failed sync runs, newest first. Not cached: a failed run does not republish the
    warehouse, so the published version would not tell the cache that one was noted."""
    return queries.sync_failures(get_reader(db_path()), limit=limit)


def reject_summary() -> pd.DataFrame | None:
    """Rejected records by source and reason."""
    return optional_query("_rejects", "reject_summary")


def reject_samples(limit: int = 200) -> pd.DataFrame | None:
    """The latest rejected records."""
    return optional_query("_rejects", "reject_samples", limit=limit)


# --------------------------------------------------------------------------- definitions


# Columns that docs/metrics.md defines inside another metric's paragraph (the percentiles with
# the mean, the buckets with the total): their help text quotes that paragraph.
_DEFINED_WITH = {
    **{
        f"{stat}_seconds_to_first_ack": "mean_seconds_to_first_ack"
        for stat in ("p50", "p90", "p95")
    },
    **{f"{stat}_seconds_to_resolve": "mean_seconds_to_resolve" for stat in ("p50", "p90", "p95")},
    **{
        f"total_{bucket}_interruptions": "total_interruptions"
        for bucket in ("business_hour", "off_hour", "sleep_hour")
    },
}


def definition(metric: str) -> str | None:
    """The paragraph of docs/metrics.md under ``### <metric>``, quoted verbatim (or None)."""
    return shared_definition(metric) or shared_definition(_DEFINED_WITH.get(metric, metric))


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


# (label, before column, after column) of the replay, as the recommendations mart names them.
REPLAY_PAIRS = (
    ("Incidents", "incidents_before", "incidents_after"),
    ("Notifications", "notifications_before", "notifications_after"),
    ("Sleep interruptions", "sleep_interruptions_before", "sleep_interruptions_after"),
)
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


def parse_evidence(evidence: object) -> object:
    """A recommendation's evidence as a JSON value for ``st.json`` (text if not valid JSON)."""
    if isinstance(evidence, dict | list):
        return evidence
    try:
        return json.loads(str(evidence))
    except (TypeError, ValueError):
        return {"evidence": str(evidence)}


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


def names(frame: pd.DataFrame, id_column: str, name_column: str) -> dict[str, str]:
    """``{id: display name}`` for a selectbox, skipping rows without an id."""
    return {
        str(key): str(name) if pd.notna(name) else str(key)
        for key, name in zip(frame[id_column], frame[name_column], strict=True)
        if pd.notna(key)
    }


def records_fetched(records_json: object) -> pd.DataFrame:
    """The per-resource record counts of a sync run as a two-column table."""
    try:
        parsed = json.loads(records_json) if isinstance(records_json, str) else records_json
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return pd.DataFrame(columns=["resource", "records"])
    return pd.DataFrame([{"resource": str(k), "records": v} for k, v in sorted(parsed.items())])


def iso_week_label(week_start: date) -> str:
    """``2026-W47 (Mon 16 Nov)`` for a week's Monday; incomplete weeks say so."""
    year, week, _ = week_start.isocalendar()
    label = f"{year}-W{week:02d} (Mon {week_start:%d %b})"
    return label if is_complete_week(week_start) else f"{label}, incomplete"


def is_complete_week(week_start: date) -> bool:
    """Whether the data reaches the week's Sunday (the reporting time zone)."""
    return week_start + timedelta(days=6) <= filter_choices().last_day


def default_report_week(weeks: list[date]) -> int:
    """Index of the newest complete week in ``weeks`` (newest first), as `pagerlens report`."""
    for index, week in enumerate(weeks):
        if is_complete_week(week):
            return index
    return 0


def iso_week(week_start: date) -> str:
    """``YYYY-Www``, the form ``pagerlens report --week`` takes."""
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class ReportOutcome:
    """Files of a built report as (name, bytes, mime type), or why there are none."""

    files: tuple[tuple[str, bytes, str], ...]
    error: str | None = None


_MIME = {".pdf": "application/pdf", ".csv": "text/csv", ".md": "text/markdown"}


def build_report(week_start: date, *, anonymize: bool = False) -> ReportOutcome:
    """Write the weekly report for ``week_start`` into a temporary folder and read it back.

    Built files are cached per published warehouse; a failure is shown, never cached.
    """
    try:
        from reports.weekly import write_report  # noqa: F401 - availability check
    except ImportError:
        return ReportOutcome(
            (),
            "The report module (reports/weekly.py) is not available in "
            "this copy of pagerlens; use `pagerlens report` once it is.",
        )
    path = db_path()
    try:
        return ReportOutcome(_build_report(path, version(path), iso_week(week_start), anonymize))
    except Exception as exc:  # noqa: BLE001 - shown to the user, the page must not crash
        return ReportOutcome((), f"The report could not be built: {exc}")


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=16)
def _build_report(
    path: str, version_key: Any, week: str, anonymize: bool
) -> tuple[tuple[str, bytes, str], ...]:
    # version_key is part of the cache key only (a republished warehouse builds anew).
    from reports.weekly import write_report

    with tempfile.TemporaryDirectory(prefix="pagerlens-report-") as out:
        written = write_report(path, week=week, out_dir=Path(out), anonymize=anonymize)
        return tuple(
            (
                Path(p).name,
                Path(p).read_bytes(),
                _MIME.get(Path(p).suffix, "application/octet-stream"),
            )
            for p in sorted(written, key=lambda p: (Path(p).suffix != ".pdf", Path(p).name))
        )
