"""Read queries for the dashboard: every statement lives in ``etl/queries/sql/dashboard/*.sql``.

Each function takes a :class:`~etl.queries.Reader` and plain filter values and returns a pandas
DataFrame. Filters are half-open instant ranges ``[start_ts, end_ts)`` on ``created_at`` (or the
interruption's first notification), plus lists of team ids, service ids and urgencies where an
empty list means "all". Weekly marts are filtered on ``week_start`` (a Monday in the reporting
time zone). Optional tables (noise marts, the interruptions model, bookkeeping) may be absent in
an older or partial warehouse: callers check :meth:`Reader.has_table` first (see
``dashboard/data.py``), these functions assume the table exists.

Incident-level statements repeat one filter (the half-open ``created_at`` range, then the team,
service and urgency lists, cast to ``VARCHAR[]`` so an empty Python list binds as an empty list)
and the aggregates of ``service_weekly``/``team_weekly`` (docs/metrics.md: means and continuous
percentiles over the incidents whose duration is not NULL). Values are always bound parameters.

This module never imports streamlit (``etl`` stays UI-free); caching lives in the dashboard.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from etl.queries import Reader, sync_failures  # noqa: F401 - part of this module's API

SQL_DIR = Path(__file__).with_name("sql") / "dashboard"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@cache
def sql(name: str) -> str:
    """The text of ``etl/queries/sql/dashboard/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _run(reader: Reader, text: str, **params: Any) -> pd.DataFrame:
    """Run ``text`` binding only the parameters it names (DuckDB rejects unused ones)."""
    wanted = set(_PARAM.findall(_COMMENT.sub("", text)))
    missing = wanted - params.keys()
    if missing:
        raise TypeError(f"query parameters not supplied: {sorted(missing)}")
    return reader.df(text, {k: v for k, v in params.items() if k in wanted})


def _lists(team_ids, service_ids, urgencies=()) -> dict[str, list[str]]:
    return {
        "team_ids": list(team_ids),
        "service_ids": list(service_ids),
        "urgencies": list(urgencies),
    }


def filter_options(reader: Reader) -> pd.DataFrame:
    """Every (team, service) pair that has incidents: the choices of the filter widgets."""
    return _run(reader, sql("filter_options"))


def urgencies(reader: Reader) -> list[str]:
    """Urgency values present in the incidents mart."""
    return _run(reader, sql("urgencies"))["urgency"].tolist()


def data_period(reader: Reader) -> pd.DataFrame:
    """First and last incident creation and the incident count (one row)."""
    return _run(reader, sql("data_period"))


def weekly_incidents(
    reader: Reader,
    *,
    start_ts: datetime,
    end_ts: datetime,
    team_ids=(),
    service_ids=(),
    urgencies=(),
) -> pd.DataFrame:
    """Per week: the incident metrics of service_weekly, over the filtered incidents."""
    return _run(
        reader,
        sql("weekly_incidents"),
        start_ts=start_ts,
        end_ts=end_ts,
        **_lists(team_ids, service_ids, urgencies),
    )


def weekly_interruptions(
    reader: Reader,
    *,
    start_week: date,
    end_week: date,
    team_ids=(),
    service_ids=(),
) -> pd.DataFrame:
    """Per week: interruptions by bucket, summed over the filtered services."""
    return _run(
        reader,
        sql("weekly_interruptions_by_service"),
        start_week=start_week,
        end_week=end_week,
        **_lists(team_ids, service_ids),
    )


def weekly_account_uptime(
    reader: Reader,
    *,
    start_week: date,
    end_week: date,
    reporting_time_zone: str = "UTC",
) -> pd.DataFrame:
    """Per week of the range: account up-time from account-wide impact windows."""
    return _run(
        reader,
        sql("weekly_account_uptime"),
        start_week=start_week,
        end_week=end_week,
        reporting_time_zone=reporting_time_zone,
    )


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


def _group_metrics(reader: Reader, grain: str, week_count: int, **params: Any) -> pd.DataFrame:
    frame = _run(reader, sql("group_metrics"), grain=grain, week_count=max(week_count, 1), **params)
    names = _GROUP_COLUMNS[grain]
    metrics = [c for c in frame.columns if c not in _GROUP_ONLY]
    return frame[[*names, *metrics]].rename(columns=names)


def team_metrics(
    reader: Reader,
    *,
    start_ts: datetime,
    end_ts: datetime,
    start_week: date,
    end_week: date,
    week_count: int,
    team_ids=(),
    service_ids=(),
    urgencies=(),
) -> pd.DataFrame:
    """Per team over the range: MTTA/MTTR, counts, noise ratio, interruptions and up-time."""
    return _group_metrics(
        reader,
        "team",
        week_count,
        start_ts=start_ts,
        end_ts=end_ts,
        start_week=start_week,
        end_week=end_week,
        **_lists(team_ids, service_ids, urgencies),
    )


def service_metrics(
    reader: Reader,
    *,
    start_ts: datetime,
    end_ts: datetime,
    start_week: date,
    end_week: date,
    week_count: int,
    team_ids=(),
    service_ids=(),
    urgencies=(),
) -> pd.DataFrame:
    """Per service over the range: MTTA/MTTR, counts, noise ratio, interruptions, up-time."""
    return _group_metrics(
        reader,
        "service",
        week_count,
        start_ts=start_ts,
        end_ts=end_ts,
        start_week=start_week,
        end_week=end_week,
        **_lists(team_ids, service_ids, urgencies),
    )


def incident_list(
    reader: Reader,
    *,
    start_ts: datetime,
    end_ts: datetime,
    team_ids=(),
    service_ids=(),
    urgencies=(),
    limit: int = 500,
) -> pd.DataFrame:
    """The newest filtered incidents (at most ``limit``), with safe PagerDuty links."""
    return _run(
        reader,
        sql("incident_list"),
        start_ts=start_ts,
        end_ts=end_ts,
        limit=limit,
        **_lists(team_ids, service_ids, urgencies),
    )


def responders(
    reader: Reader,
    *,
    start_week: date,
    end_week: date,
    team_ids=(),
) -> pd.DataFrame:
    """Per responder over the weeks: load, latest health score and overloaded weeks."""
    return _run(
        reader, sql("responders"), start_week=start_week, end_week=end_week, team_ids=list(team_ids)
    )


def interruption_heatmap(
    reader: Reader,
    *,
    start_ts: datetime,
    end_ts: datetime,
    team_ids=(),
    service_ids=(),
    user_ids=(),
) -> pd.DataFrame:
    """Interruptions by ISO weekday (1 = Monday) and hour in each responder's local time."""
    return _run(
        reader,
        sql("interruption_heatmap"),
        start_ts=start_ts,
        end_ts=end_ts,
        user_ids=list(user_ids),
        **_lists(team_ids, service_ids),
    )


def alert_templates(reader: Reader, *, team_ids=(), service_ids=()) -> pd.DataFrame:
    """Alert templates (alert types) of the filtered services."""
    return _run(reader, sql("alert_templates"), **_lists(team_ids, service_ids))


def recommendations(reader: Reader, *, team_ids=(), service_ids=()) -> pd.DataFrame:
    """Noise-reduction recommendations for the filtered teams and services."""
    return _run(reader, sql("recommendations"), **_lists(team_ids, service_ids))


def alert_groups(reader: Reader) -> pd.DataFrame:
    """Groups of alert types that fire together, most frequent first."""
    return _run(reader, sql("alert_groups"))


def impact_windows(
    reader: Reader,
    *,
    start_ts: datetime,
    end_ts: datetime,
    service_ids=(),
) -> pd.DataFrame:
    """Impact windows overlapping the range (account-wide ones always included)."""
    return _run(
        reader,
        sql("impact_windows"),
        start_ts=start_ts,
        end_ts=end_ts,
        service_ids=list(service_ids),
    )


def major_free_streaks(reader: Reader) -> pd.DataFrame:
    """Gaps between account-wide impact windows over the data period; the last is current."""
    return _run(reader, sql("major_free_streaks"))


def major_free_streaks_mart(reader: Reader) -> pd.DataFrame:
    """The ``major_free_streaks`` mart (one row: current and longest streak)."""
    return _run(reader, sql("major_free_streaks_mart"))


def stale_open_majors_mart(reader: Reader) -> pd.DataFrame:
    """The ``stale_open_majors`` mart: majors open longer than the configured days."""
    return _run(reader, sql("stale_open_majors_mart"))


def stale_open_majors(reader: Reader) -> pd.DataFrame:
    """Major incidents still open (they run to the end of the data and inflate impact)."""
    return _run(reader, sql("stale_open_majors"))


def weeks(reader: Reader) -> list[date]:
    """Weeks (Monday dates, newest first) that have incidents."""
    frame = _run(reader, sql("weeks"))
    return [pd.Timestamp(w).date() for w in frame["week_start"]]


def sync_runs(reader: Reader, *, limit: int = 20) -> pd.DataFrame:
    """The most recent sync runs, newest first."""
    return _run(reader, sql("sync_runs"), limit=limit)


def reject_summary(reader: Reader) -> pd.DataFrame:
    """Rejected records counted by source and reason."""
    return _run(reader, sql("reject_summary"))


def reject_samples(reader: Reader, *, limit: int = 200) -> pd.DataFrame:
    """The most recent rejected records, with the payload as received (text)."""
    return _run(reader, sql("reject_samples"), limit=limit)
