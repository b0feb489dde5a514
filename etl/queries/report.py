"""Read queries for the weekly report: every statement lives in ``etl/queries/sql/report/*.sql``.

Each function takes a :class:`~etl.queries.Reader` and plain values (instants as timezone-aware
datetimes, weeks as the Monday ``date`` of the reporting time zone) and returns a pandas
DataFrame. Values are always bound parameters. Optional tables (noise marts, the interruptions
model, the bookkeeping tables, the data-period view) may be missing in an older or partial
warehouse: those functions return ``None`` so the report can say so honestly, instead of
failing.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

import pandas as pd

from etl.queries import Reader, sync_failures  # noqa: F401 - part of this module's API

SQL_DIR = Path(__file__).with_name("sql") / "report"


@cache
def sql(name: str) -> str:
    """The text of ``etl/queries/sql/report/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _run(reader: Reader, name: str, params: dict[str, object] | None = None) -> pd.DataFrame:
    return reader.df(sql(name), params or {})


def account_weekly(
    reader: Reader, start_ts: datetime, end_ts: datetime, reporting_time_zone: str
) -> pd.DataFrame:
    """Account-wide incident counts, MTTA/MTTR mean and p90 and noise ratio per week."""
    return _run(
        reader,
        "account_weekly",
        {
            "start_ts": start_ts,
            "end_ts": end_ts,
            "reporting_time_zone": reporting_time_zone,
        },
    )


def account_interruptions_weekly(reader: Reader, first_week: date, last_week: date) -> pd.DataFrame:
    """Interruptions per week (all responders), by bucket, for weeks in [first, last]."""
    return _run(
        reader, "account_interruptions_weekly", {"first_week": first_week, "last_week": last_week}
    )


def account_impact_windows(reader: Reader, end_ts: datetime) -> pd.DataFrame:
    """Account-wide impact windows starting before ``end_ts``, oldest first."""
    return _run(reader, "account_impact_windows", {"end_ts": end_ts})


def incident_span(reader: Reader) -> pd.DataFrame:
    """First and last incident ``created_at`` and the number of incidents (one row)."""
    return _run(reader, "data_period")


def data_period(reader: Reader) -> pd.DataFrame | None:
    """``data_start``/``data_end`` from the models' ``stg_data_period`` view, if it exists."""
    if not reader.has_table("stg_data_period"):
        return None
    return reader.df("select data_start, data_end from stg_data_period")


def last_sync(reader: Reader) -> pd.DataFrame | None:
    """The last successful sync run (0 or 1 row); None when there is no bookkeeping table."""
    if not reader.has_table("_sync_runs"):
        return None
    return _run(reader, "last_sync")


def team_weekly(reader: Reader, week_start: date, previous_week_start: date) -> pd.DataFrame:
    """``team_weekly`` rows of the report week and the previous week."""
    return _run(
        reader,
        "team_weekly",
        {"week_start": week_start, "previous_week_start": previous_week_start},
    )


def service_weekly(reader: Reader, week_start: date, previous_week_start: date) -> pd.DataFrame:
    """``service_weekly`` rows of the report week and the previous week."""
    return _run(
        reader,
        "service_weekly",
        {"week_start": week_start, "previous_week_start": previous_week_start},
    )


def responders(reader: Reader, week_start: date, previous_week_start: date) -> pd.DataFrame:
    """``responder_weekly`` rows (all columns) of the report week and the previous week."""
    return _run(
        reader, "responders", {"week_start": week_start, "previous_week_start": previous_week_start}
    )


def sleep_nights(reader: Reader, week_start: date) -> pd.DataFrame | None:
    """Sleep-hour interruptions per responder and night of the week; None without the model."""
    if not reader.has_table("int_interruptions"):
        return None
    return _run(reader, "sleep_nights", {"week_start": week_start})


def impact_windows(reader: Reader, start_ts: datetime, end_ts: datetime) -> pd.DataFrame:
    """Impact windows (service and account scope) overlapping the week, with service names."""
    return _run(reader, "impact_windows", {"start_ts": start_ts, "end_ts": end_ts})


def impact_incidents(reader: Reader, start_ts: datetime, end_ts: datetime) -> pd.DataFrame:
    """The incidents behind the account-wide impact windows overlapping the week."""
    return _run(reader, "impact_incidents", {"start_ts": start_ts, "end_ts": end_ts})


def stale_open_majors(
    reader: Reader, as_of: datetime, stale_open_major_days: float
) -> pd.DataFrame:
    """Major incidents open at least ``stale_open_major_days`` days before ``as_of``.

    Reads the models' ``stale_open_majors`` mart when the warehouse has it (one definition),
    else applies the same rule to the incidents mart.
    """
    if reader.has_table("stale_open_majors"):
        return _run(reader, "stale_open_majors_mart")
    return _run(
        reader,
        "stale_open_majors",
        {"as_of": as_of, "stale_open_major_days": float(stale_open_major_days)},
    )


def noisy_templates(reader: Reader, start_ts: datetime, end_ts: datetime) -> pd.DataFrame | None:
    """Alert types of the week; None without the noise marts.

    With the noise model's incident -> template mapping (``int_incident_noise``) the rows carry
    the week's own counts (``incidents_this_week`` and friends) next to the history-wide columns
    of ``alert_templates``; without it, the templates seen during the week with their
    history-wide counts only.
    """
    if not reader.has_table("alert_templates"):
        return None
    params = {"start_ts": start_ts, "end_ts": end_ts}
    if reader.has_table("int_incident_noise"):
        return _run(reader, "noisy_templates_week", params)
    return _run(reader, "noisy_templates", params)


def recommendations(reader: Reader) -> pd.DataFrame | None:
    """Noise-reduction recommendations, most pages saved first; None without the mart."""
    if not reader.has_table("recommendations"):
        return None
    return _run(reader, "recommendations")


def week_incidents(reader: Reader, start_ts: datetime, end_ts: datetime) -> pd.DataFrame:
    """The incidents created in the week (ids, titles, service and team, flags)."""
    return _run(reader, "week_incidents", {"start_ts": start_ts, "end_ts": end_ts})


def team_names(reader: Reader) -> pd.DataFrame:
    """``team_id`` -> ``team_name`` as the incidents mart knows them."""
    return _run(reader, "team_names")
