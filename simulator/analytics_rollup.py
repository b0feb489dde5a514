"""The Analytics API's shapes over :class:`simulator.analytics.AccountAnalytics` rows.

A raw incident in the spec's ``AnalyticsRawIncident`` shape, the service x week aggregates of
``AnalyticsIncidentMetrics`` (with ``up_time_pct`` from major incidents' impact) and the
all-responders totals of ``AnalyticsResponderMetrics`` (on-call time from the account's
on-call periods). Timestamps are local times in the response's ``time_zone`` without an
offset, as in the spec's examples.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulator.analytics import AccountAnalytics
from simulator.protocol import epoch_of


def local_text(epoch: float | None, zone: ZoneInfo) -> str | None:
    """A local timestamp without offset (``2026-02-16T10:05:00``), as the spec's examples."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, zone).replace(tzinfo=None).isoformat(timespec="seconds")


def raw_incident(row: dict[str, Any], zone: ZoneInfo, as_of: float) -> dict[str, Any]:
    """One ``AnalyticsRawIncident``."""
    service, team = row["service"], row["team"] or {}
    policy, priority = row["escalation_policy"] or {}, row["priority"] or {}
    resolver = row["resolved_by"] or {}
    by_user = resolver.get("type") == "user_reference"
    interruptions = (
        row["business_hour_interruptions"]
        + row["off_hour_interruptions"]
        + row["sleep_hour_interruptions"]
    )
    return {
        "id": row["id"],
        "incident_number": row["incident_number"],
        "created_at": local_text(row["created_at"], zone),
        "updated_at": local_text(as_of, zone),
        "resolved_at": local_text(row["resolved_at"], zone),
        "status": row["status"],
        "urgency": row["urgency"],
        "description": row["description"],
        "service_id": service["id"],
        "service_name": service.get("summary"),
        "team_id": team.get("id"),
        "team_name": team.get("summary"),
        "escalation_policy_id": policy.get("id"),
        "escalation_policy_name": policy.get("summary"),
        "priority_id": priority.get("id"),
        "priority_name": priority.get("summary"),
        "priority_order": None,
        "major": row["major"],
        "auto_resolved": row["auto_resolved"],
        "seconds_to_first_ack": row["seconds_to_first_ack"],
        "seconds_to_resolve": row["seconds_to_resolve"],
        "escalation_count": row["escalation_count"],
        "timeout_escalation_count": row["timeout_escalation_count"],
        "manual_escalation_count": 0,
        "total_notifications": row["total_notifications"],
        "total_interruptions": interruptions,
        "business_hour_interruptions": row["business_hour_interruptions"],
        "off_hour_interruptions": row["off_hour_interruptions"],
        "sleep_hour_interruptions": row["sleep_hour_interruptions"],
        "engaged_seconds": row["engaged_seconds"],
        "engaged_user_count": len(row["acknowledged_user_ids"]),
        "active_user_count": len(row["acknowledged_user_ids"]),
        "acknowledged_user_ids": row["acknowledged_user_ids"],
        "acknowledgement_count": row["acknowledgement_count"],
        "assigned_user_ids": row["assigned_user_ids"],
        "assignment_count": len(row["assigned_user_ids"]),
        "reassignment_count": 0,
        "resolved_by_user_id": resolver.get("id") if by_user else None,
        "resolved_by_user_name": resolver.get("summary") if by_user else None,
    }


def week_start(epoch: float, zone: ZoneInfo) -> datetime:
    """Monday 00:00 (aware, in ``zone``) of the week containing ``epoch``."""
    local = datetime.fromtimestamp(epoch, zone)
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime(monday.year, monday.month, monday.day, tzinfo=zone)


def _mean(values: Iterable[int | None]) -> int | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept)) if kept else None


def service_weeks(
    analytics: AccountAnalytics, rows: list[dict], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """``AnalyticsIncidentMetrics`` per service and week (weeks starting Monday in ``zone``)."""
    groups: dict[tuple[str, datetime], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["service"]["id"], week_start(row["created_at"], zone))].append(row)
    out = []
    for (service_id, start), members in sorted(groups.items(), key=lambda kv: kv[0]):
        service, team = members[0]["service"], members[0]["team"] or {}
        counted = [
            r for r in members if analytics.settings.has("merged_incidents") or not r["merged"]
        ]
        end = datetime(start.year, start.month, start.day, tzinfo=zone) + timedelta(days=7)
        out.append(
            {
                "service_id": service_id,
                "service_name": service.get("summary"),
                "team_id": team.get("id"),
                "team_name": team.get("summary"),
                "range_start": start.replace(tzinfo=None).isoformat(timespec="seconds"),
                "total_incident_count": len(counted),
                "total_incidents_acknowledged": sum(
                    1 for r in counted if r["seconds_to_first_ack"] is not None
                ),
                "total_incidents_auto_resolved": sum(1 for r in counted if r["auto_resolved"]),
                "mean_seconds_to_first_ack": _mean(r["seconds_to_first_ack"] for r in counted),
                "mean_seconds_to_resolve": _mean(r["seconds_to_resolve"] for r in counted),
                "total_escalation_count": sum(r["escalation_count"] for r in members),
                "total_notifications": sum(r["total_notifications"] for r in members),
                "total_business_hour_interruptions": _total(members, "business_hour_interruptions"),
                "total_off_hour_interruptions": _total(members, "off_hour_interruptions"),
                "total_sleep_hour_interruptions": _total(members, "sleep_hour_interruptions"),
                "total_interruptions": _total(
                    members,
                    "business_hour_interruptions",
                    "off_hour_interruptions",
                    "sleep_hour_interruptions",
                ),
                "total_engaged_seconds": sum(r["engaged_seconds"] for r in members),
                "up_time_pct": _up_time_pct(analytics, service_id, start, end),
            }
        )
    return out


def _total(rows: list[dict], *fields: str) -> int:
    return sum(row[name] for row in rows for name in fields)


def _up_time_pct(analytics: AccountAnalytics, service_id: str, start: datetime, end: datetime):
    """100 x the share of the week without a major incident of the service open."""
    t0, t1 = start.timestamp(), end.timestamp()
    open_until = analytics.as_of.timestamp()  # an open major runs to the end of the data
    spans = sorted(
        (row["created_at"], open_until if row["resolved_at"] is None else row["resolved_at"])
        for row in analytics.rows
        if row["major"] and row["service"]["id"] == service_id
    )
    covered, reach = 0.0, t0
    for begin, finish in spans:
        begin, finish = max(begin, reach), min(finish, t1)
        if finish > begin:
            covered += finish - begin
            reach = finish
    return 100.0 * (1.0 - covered / (t1 - t0))


def responders_all(
    analytics: AccountAnalytics, rows: list[dict], start: float, end: float
) -> dict[str, Any]:
    """``AnalyticsResponderMetrics`` summed over every responder of ``rows``' incidents."""
    interruptions = {
        bucket: _total(rows, f"{bucket}_interruptions")
        for bucket in ("business_hour", "off_hour", "sleep_hour")
    }
    engaged = sum(r["engaged_seconds"] for r in rows)
    acked = sum(len(r["acknowledged_user_ids"]) for r in rows)
    # On-call time comes from schedules, which Analytics does not lag.
    on_call = _on_call_seconds(analytics, start, end)
    return {
        "total_incident_count": len(rows),
        "total_incidents_acknowledged": acked,
        "total_notifications": sum(r["total_notifications"] for r in rows),
        "total_interruptions": sum(interruptions.values()),
        "total_business_hour_interruptions": interruptions["business_hour"],
        "total_off_hour_interruptions": interruptions["off_hour"],
        "total_sleep_hour_interruptions": interruptions["sleep_hour"],
        "total_engaged_seconds": engaged,
        "mean_engaged_seconds": round(engaged / acked) if acked else 0,
        **on_call,
    }


def _on_call_seconds(analytics: AccountAnalytics, start: float, end: float) -> dict[str, int]:
    """On-call seconds of all users, each user's overlapping periods counted once per level."""
    spans: dict[str, dict[str, list[tuple[float, float]]]] = {
        "total_seconds_on_call": defaultdict(list),
        "total_seconds_on_call_level_1": defaultdict(list),
        "total_seconds_on_call_level_2_plus": defaultdict(list),
    }
    for oncall in analytics.index.oncalls:
        user = (oncall.get("user") or {}).get("id")
        begin = max(epoch_of(oncall.get("start")), start)
        finish = min(epoch_of(oncall["end"]) if oncall.get("end") else math.inf, end)
        if not user or finish <= begin:
            continue
        level = "1" if oncall.get("escalation_level", 1) == 1 else "2_plus"
        spans["total_seconds_on_call"][user].append((begin, finish))
        spans[f"total_seconds_on_call_level_{level}"][user].append((begin, finish))
    return {
        name: int(sum(_union_length(periods) for periods in by_user.values()))
        for name, by_user in spans.items()
    }


def _union_length(periods: list[tuple[float, float]]) -> float:
    total, reach = 0.0, -math.inf
    for begin, finish in sorted(periods):
        begin = max(begin, reach)
        if finish > begin:
            total += finish - begin
            reach = finish
    return total
