"""Incident by incident: our ``incidents`` mart against PagerDuty's raw incident analytics.

A difference gets a named reason only when the evidence holds for that incident: PagerDuty's
value equals what its documented rule gives from our own copy of the log entries (for example
the first acknowledgement by any agent), or the incident changed after PagerDuty last
processed it (``updated_at`` of the raw row; for an incident PagerDuty lacks, creation within
its 24 h lag before the end of our data). Everything else stays unexplained.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from etl.reconcile import reasons as r

LAG = timedelta(hours=24)
TOLERANCE_SECONDS = 1.0  # PagerDuty reports whole seconds
INCIDENT_METRICS = (
    "seconds_to_first_ack",
    "seconds_to_resolve",
    "auto_resolved",
    "major",
    "escalation_count",
    "total_notifications",
    "business_hour_interruptions",
    "off_hour_interruptions",
    "sleep_hour_interruptions",
)
DIFF_COLUMNS = [
    "scope",
    "key",
    "service_id",
    "week_start",
    "metric",
    "ours",
    "pagerduty",
    "reason",
    "detail",
]


def to_utc(value: Any, zone: str) -> pd.Timestamp | None:
    """An Analytics timestamp (local without offset in ``zone``, or with an offset) in UTC."""
    if value is None or value == "":
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(zone)
    return stamp.tz_convert("UTC")


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def same(ours: Any, theirs: Any, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """Equal values: both missing, or numbers within ``tolerance``, or equal booleans."""
    if is_missing(ours) or is_missing(theirs):
        return is_missing(ours) and is_missing(theirs)
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return bool(ours) == bool(theirs)
    return abs(float(ours) - float(theirs)) <= tolerance


def _specific_reason(metric: str, ours: pd.Series, theirs: dict) -> str | None:
    """The reason PagerDuty's own rule explains this value, from our copy of the entries."""
    value = theirs.get(metric)
    if metric == "seconds_to_first_ack" and same(ours["any_agent_seconds_to_first_ack"], value):
        return r.INTEGRATION_ACK
    if (
        metric == "seconds_to_resolve"
        and bool(ours["data_issue"])
        and same(ours["signed_seconds_to_resolve"], value)
    ):
        return r.INVALID_TIMING
    if metric == "total_notifications" and same(
        ours["total_notifications"] - ours["email_notifications"], value, 0
    ):
        return r.EMAIL_NOTIFICATIONS
    if metric.endswith("_interruptions"):
        notifications = metric.replace("_interruptions", "_notifications")
        if same(ours[notifications], value, 0):
            return r.INTERRUPTION_DEFINITION
    return None


def _lagging(ours: pd.Series, theirs: dict, zone: str, data_end: pd.Timestamp | None) -> bool:
    """Our incident changed after PagerDuty last processed it."""
    processed = to_utc(theirs.get("updated_at"), zone)
    if processed is None and data_end is not None:
        processed = data_end - LAG
    last = ours["last_entry_at"]
    return processed is not None and not is_missing(last) and pd.Timestamp(last) > processed


def compare_incidents(
    ours: pd.DataFrame, raw: list[dict], zone: str, data_end: pd.Timestamp | None
) -> pd.DataFrame:
    """One row per differing (incident, metric), with its reason or None."""
    theirs_by_id = {row["id"]: row for row in raw}
    rows: list[dict] = []
    for _, mine in ours.iterrows():
        theirs = theirs_by_id.pop(mine["incident_id"], None)
        base = {
            "scope": "incident",
            "key": mine["incident_id"],
            "service_id": mine["service_id"],
            "week_start": mine["week_start"],
        }
        if theirs is None:
            recent = data_end is not None and pd.Timestamp(mine["created_at"]) >= data_end - LAG
            rows.append(
                base
                | {
                    "metric": "incident",
                    "ours": "present",
                    "pagerduty": "missing",
                    "reason": r.ANALYTICS_LAG if recent else None,
                    "detail": "created within PagerDuty's lag" if recent else "PagerDuty lacks it",
                }
            )
            continue
        for metric in INCIDENT_METRICS:
            tolerance = TOLERANCE_SECONDS if metric.startswith("seconds_") else 0
            if same(mine[metric], theirs.get(metric), tolerance):
                continue
            reason = _specific_reason(metric, mine, theirs)
            if reason is None and _lagging(mine, theirs, zone, data_end):
                reason = r.ANALYTICS_LAG
            rows.append(
                base
                | {
                    "metric": metric,
                    "ours": _plain(mine[metric]),
                    "pagerduty": theirs.get(metric),
                    "reason": reason,
                    "detail": "",
                }
            )
    for incident_id, theirs in theirs_by_id.items():
        rows.append(
            {
                "scope": "incident",
                "key": incident_id,
                "service_id": theirs.get("service_id"),
                "week_start": None,
                "metric": "incident",
                "ours": "missing",
                "pagerduty": "present",
                "reason": None,
                "detail": "not in the warehouse: sync this period first",
            }
        )
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _plain(value: Any) -> Any:
    if is_missing(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def week_of(moment: datetime | pd.Timestamp, zone: str) -> pd.Timestamp:
    """The Monday (a date) of ``moment``'s week in ``zone``."""
    local = pd.Timestamp(moment).tz_convert(zone)
    return (local - pd.Timedelta(days=local.weekday())).normalize().tz_localize(None)
