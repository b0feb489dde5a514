"""The report's tables with stable columns (CSV and Parquet): ISO 8601 instants, integer counts."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from reports.charts import DURATION_COLUMNS
from reports.weekly.model import WORSENING, ReportData, _ts


def _iso(value: object) -> object:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return _ts(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _iso_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if (
            _COUNT_COLUMN.search(str(column))
            and pd.api.types.is_numeric_dtype(series)
            and not pd.api.types.is_bool_dtype(series)
        ):
            values = series.dropna()
            if (values == values.round()).all():
                out[column] = series.astype("Int64")
                continue
        if (
            pd.api.types.is_datetime64_any_dtype(series)
            or series.map(lambda v: isinstance(v, date | datetime)).any()
        ):
            out[column] = series.map(_iso)
    return out


def _select(df: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` in this order, missing ones empty: the CSV header never depends on the data."""
    if df is None:
        return pd.DataFrame(columns=list(columns))
    return pd.DataFrame(
        {
            c: df[c] if c in df.columns else pd.Series([None] * len(df), dtype="object")
            for c in columns
        }
    )


GROUP_COLUMNS = (
    "week_start",
    "total_incident_count",
    "total_incidents_acknowledged",
    "total_incidents_auto_resolved",
    "mean_seconds_to_first_ack",
    "p50_seconds_to_first_ack",
    "p90_seconds_to_first_ack",
    "p95_seconds_to_first_ack",
    "mean_seconds_to_resolve",
    "p50_seconds_to_resolve",
    "p90_seconds_to_resolve",
    "p95_seconds_to_resolve",
    "total_escalation_count",
    "total_notifications",
    "total_interruptions",
    "total_business_hour_interruptions",
    "total_off_hour_interruptions",
    "total_sleep_hour_interruptions",
    "total_major_incidents",
    "noise_ratio",
    "up_time_pct",
    *(f"previous_{c}" for c in WORSENING),
    "worst_change_metric",
    "worst_change",
)
RESPONDER_COLUMNS = (
    "week_start",
    "user_id",
    "user_name",
    "team_id",
    "team_name",
    "total_interruptions",
    "previous_total_interruptions",
    "total_business_hour_interruptions",
    "total_off_hour_interruptions",
    "total_sleep_hour_interruptions",
    "total_notifications",
    "total_incidents_acknowledged",
    "total_engaged_seconds",
    "total_seconds_on_call",
    "total_seconds_on_call_level_1",
    "total_seconds_on_call_level_2_plus",
    "health_score",
    "overloaded",
    "overload_reason",
)
IMPACT_COLUMNS = (
    "scope",
    "service_id",
    "service_name",
    "window_start",
    "window_end",
    "duration_seconds",
    "seconds_in_week",
    "incident_count",
    "incident_ids",
)
TEMPLATE_COLUMNS = (
    "template_id",
    "template",
    "service_id",
    "service_name",
    "team_id",
    "team_name",
    "incidents_this_week",
    "noise_incidents_this_week",
    "notifications_this_week",
    "sleep_interruptions_this_week",
    "incident_count",
    "alert_count",
    "total_notifications",
    "sleep_interruptions",
    "major_incidents",
    "first_seen",
    "last_seen",
    "share_auto_resolved",
    "share_acknowledged",
    "share_flapping",
    "share_sleep_hours",
    "median_seconds_to_resolve",
)
RECOMMENDATION_COLUMNS = (
    "recommendation_id",
    "team_id",
    "team_name",
    "kind",
    "service_id",
    "service_name",
    "template_id",
    "template",
    "group_id",
    "title",
    "pages_saved",
    "incidents_before",
    "incidents_after",
    "notifications_before",
    "notifications_after",
    "sleep_interruptions_before",
    "sleep_interruptions_after",
    "major_incidents_affected",
    "risk",
    "replay_start",
    "replay_end",
    "evidence",
    "config_snippet",
)
SEV_COLUMNS = (
    "week_start",
    "sev_rank",
    "priority_id",
    "priority_name",
    "total_incident_count",
    "previous_total_incident_count",
    "total_incidents_acknowledged",
    *DURATION_COLUMNS,
    "longest_incident_number",
    "longest_title",
    "longest_service_name",
    "longest_seconds",
    "longest_is_open",
    "responder_people",
    "responders",
)
SEV_INCIDENT_COLUMNS = (
    "sev_rank",
    "priority_id",
    "priority_name",
    "incident_id",
    "incident_number",
    "title",
    "service_id",
    "service_name",
    "team_name",
    "status",
    "urgency",
    "created_at",
    "resolved_at",
    "seconds_to_first_ack",
    "seconds_to_resolve",
    "open_seconds",
    "responders",
    "html_url",
)
BY_FIELD_COLUMNS = (
    "week_start",
    "field_name",
    "field_value",
    "total_incident_count",
    "previous_total_incident_count",
    "total_major_incidents",
    "total_noise_incidents",
    *DURATION_COLUMNS,
)
# Counts that DuckDB returns as HUGEINT (sum of integers) arrive as floats in pandas; they are
# written as integers so a CSV says 34, not 34.0.
_COUNT_COLUMN = re.compile(
    r"^(total_|incidents_|notifications_|sleep_interruptions|major_incidents|pages_saved|"
    r"previous_total_|noise_incidents_|longest_incident_number|responder_people)|"
    r"(_count|_before|_after|_acknowledged|_this_week)$"
)


def tables(data: ReportData) -> dict[str, pd.DataFrame]:
    """The report's tables with stable column names, ISO 8601 instants and dates."""
    week = data.week
    headline = pd.DataFrame(
        [
            {
                "week": week.label,
                "week_start": week.monday,
                "metric": m.key,
                "label": m.label,
                "unit": {
                    "count": "count",
                    "duration": "seconds",
                    "ratio": "ratio",
                    "pct": "percent",
                }[m.kind],
                "value": m.value,
                "previous_value": m.previous,
                "change": m.change,
                "change_pct": m.change_pct,
                "better_when": m.better,
                "trend_12w": json.dumps([None if v is None else round(v, 6) for v in m.trend]),
            }
            for m in data.headline
        ]
    )

    impact = data.impact_windows.copy()
    if not impact.empty:
        impact["seconds_in_week"] = [
            max((min(_ts(e), week.end) - max(_ts(s), week.start)).total_seconds(), 0.0)
            for s, e in zip(impact["window_start"], impact["window_end"], strict=True)
        ]
        impact["incident_count"] = impact["incident_ids"].map(len)
        impact["incident_ids"] = impact["incident_ids"].map(lambda ids: ";".join(map(str, ids)))

    out = {
        "headline": headline,
        "team_weekly": _select(data.teams, ("team_id", "team_name", *GROUP_COLUMNS)),
        "service_weekly": _select(data.services, ("service_id", "service_name", *GROUP_COLUMNS)),
        "responders": _select(data.responders, RESPONDER_COLUMNS),
        "impact_windows": _select(impact, IMPACT_COLUMNS),
        "noisy_templates": _select(data.templates, TEMPLATE_COLUMNS),
        "recommendations": _select(data.recommendations, RECOMMENDATION_COLUMNS),
        "sev_priorities": _select(
            None if data.sev is None else data.sev.assign(week_start=week.monday), SEV_COLUMNS
        ),
        "sev_incidents": _select(data.sev_incidents, SEV_INCIDENT_COLUMNS),
    }
    if data.by_field is not None:  # only when asked for: `pagerlens report --by-field NAME`
        out["by_field"] = _select(data.by_field.assign(week_start=week.monday), BY_FIELD_COLUMNS)
    return {name: _iso_frame(frame) for name, frame in out.items()}
