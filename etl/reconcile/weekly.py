"""Service-week by service-week and all responders: our marts against PagerDuty's aggregates.

An aggregate's difference is explained by the incidents under it: the week was bucketed in
another time zone (some of the service's incidents fall in another week there), or every
incident-level difference feeding the metric has a reason and, for sums, PagerDuty's figure
equals the sum of its own raw incidents and ours the sum of our incidents (our interruptions
belong to the week of their first notification, PagerDuty's to their incident's week: that
shift is the ``interruption_week`` reason). Anything else is unexplained.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from etl.reconcile import reasons as r
from etl.reconcile.incidents import DIFF_COLUMNS, same, to_utc, week_of

INTERRUPTION_WEEK = "interruption_week"
BUCKETS = ("business_hour", "off_hour", "sleep_hour")
INTERRUPTION_PARTS = tuple(f"{b}_interruptions" for b in BUCKETS)
# Sums whose incident-level parts are compared too: weekly metric -> incident columns.
SUMS: dict[str, tuple[str, ...]] = {
    "total_escalation_count": ("escalation_count",),
    "total_notifications": ("total_notifications",),
    **{f"total_{part}": (part,) for part in INTERRUPTION_PARTS},
    "total_interruptions": INTERRUPTION_PARTS,
}
# Weekly metric -> the incident metrics it is made of besides the incident itself (an incident
# missing on one side, or in another week, moves every weekly metric: metric "incident").
WEEK_METRICS: dict[str, tuple[str, ...]] = {
    "total_incident_count": (),
    "total_incidents_acknowledged": ("seconds_to_first_ack",),
    "total_incidents_auto_resolved": ("auto_resolved",),
    "mean_seconds_to_first_ack": ("seconds_to_first_ack",),
    "mean_seconds_to_resolve": ("seconds_to_resolve",),
    **SUMS,
    "up_time_pct": ("major", "seconds_to_resolve"),
}
# Metrics an incident merged into another changes when PagerDuty counts it and pagerlens
# does not (docs/metrics.md merged_into_incident_id); the sums count it on both sides.
MERGE_COUNTED = (
    "total_incident_count",
    "total_incidents_acknowledged",
    "total_incidents_auto_resolved",
    "mean_seconds_to_first_ack",
    "mean_seconds_to_resolve",
)
TOLERANCE = {"mean_seconds_to_first_ack": 1.0, "mean_seconds_to_resolve": 1.0, "up_time_pct": 0.01}


def _explain(related: pd.DataFrame) -> tuple[str | None, str]:
    """The joined reasons of the incident differences behind an aggregate, or None."""
    if related.empty:
        return None, "no incident-level difference explains it"
    if related["reason"].isna().any():
        return None, "follows unexplained incident differences"
    found: set[str] = set()
    for reason in related["reason"]:
        found.update(r.split(reason))
    return r.join(found), f"{len(related)} incident difference(s)"


def _sum_parts(frame: pd.DataFrame, columns: tuple[str, ...]) -> float:
    return float(sum(pd.to_numeric(frame[c], errors="coerce").fillna(0).sum() for c in columns))


class WeekContext:
    """What the service-week comparison needs about incidents on both sides."""

    def __init__(
        self,
        ours: pd.DataFrame,
        raw: list[dict],
        raw_zone: str,
        week_zone: str,
        reporting_zone: str,
        incident_diffs: pd.DataFrame,
        shifts: pd.DataFrame | None = None,
    ):
        self.reporting_zone = reporting_zone
        self.shifts = (
            None if shifts is None else shifts.assign(week=pd.to_datetime(shifts["week_start"]))
        )
        self.zone_differs = week_zone != reporting_zone
        self.ours = ours.assign(week=pd.to_datetime(ours["week_start"]))
        theirs = pd.DataFrame(raw)
        if not theirs.empty:
            created = theirs["created_at"].map(lambda v: to_utc(v, raw_zone))
            theirs = theirs.assign(week=created.map(lambda c: week_of(c, week_zone)))
        self.theirs = theirs
        self.diffs = incident_diffs.assign(week=pd.to_datetime(incident_diffs["week_start"]))
        # PagerDuty's Analytics clock: the earliest time it last processed an incident.
        processed = theirs["updated_at"].map(lambda v: to_utc(v, raw_zone)) if raw else None
        self.horizon = processed.min() if processed is not None else None
        self.moved: set[tuple[str, pd.Timestamp]] = set()
        if week_zone != reporting_zone and not ours.empty:
            there = ours["created_at"].map(lambda c: week_of(c, week_zone))
            for service, here, other in zip(
                ours["service_id"], self.ours["week"], there, strict=True
            ):
                if here != other:
                    self.moved.update({(service, here), (service, other)})

    def reason(
        self, metric: str, service: str, week: pd.Timestamp, gap: float, theirs: dict | None = None
    ):
        """(reason, detail) for a difference ``gap`` = ours - PagerDuty of one service-week
        (``theirs``: PagerDuty's row of that service-week)."""
        reason, detail = self._reason(metric, service, week, gap)
        if (
            (service, week) in self.moved
            or metric not in MERGE_COUNTED
            or not self._counts_merged(service, week, theirs)
        ):
            return reason, detail
        # PagerDuty counted the week's merged incidents: they explain the rest of the gap.
        if reason is None and detail != "no incident-level difference explains it":
            return reason, detail
        return r.join(set(r.split(reason)) | {r.MERGED_INCIDENT}), "merged incident(s) counted"

    def _counts_merged(self, service: str, week: pd.Timestamp, theirs: dict | None) -> bool:
        """PagerDuty's count of the service-week is ours plus our merged-away incidents."""
        if not theirs or "merged_into_incident_id" not in self.ours:
            return False
        mine = self.ours[(self.ours["service_id"] == service) & (self.ours["week"] == week)]
        merged = int(mine["merged_into_incident_id"].notna().sum())
        return merged > 0 and same(theirs.get("total_incident_count") or 0, len(mine), 0)

    def _reason(self, metric: str, service: str, week: pd.Timestamp, gap: float):
        if (service, week) in self.moved:
            return r.WEEK_TIME_ZONE, "incidents near the week's edges"
        if metric == "up_time_pct" and self.zone_differs and self._has_major(service):
            # Up-time is measured over the week's instants, which differ between the zones.
            return r.WEEK_TIME_ZONE, "the week's instants differ between the zones"
        if metric == "up_time_pct" and self._major_open_at_horizon(service, week):
            return r.ANALYTICS_LAG, "a major incident open when PagerDuty last processed"
        diffs = self.diffs[self.diffs["metric"].isin(("incident", *WEEK_METRICS[metric]))]
        if metric == "up_time_pct":
            related = diffs[diffs["service_id"] == service]
        else:
            related = diffs[(diffs["service_id"] == service) & (diffs["week"] == week)]
        reason, detail = _explain(related)
        if metric not in SUMS:
            return reason, detail
        columns = SUMS[metric]
        mine = self.ours[(self.ours["service_id"] == service) & (self.ours["week"] == week)]
        parts_gap = _sum_parts(mine, columns) - self._their_sum(service, week, columns)
        if same(parts_gap, gap, 0):
            return (reason, detail) if parts_gap else (None, "no incident-level difference")
        shift = self._shift(service, week, columns)
        if shift and same(shift, gap - parts_gap, 0) and (reason is not None or related.empty):
            found = set(r.split(reason)) | {INTERRUPTION_WEEK}
            return r.join(found), f"{shift:+.0f} interruption(s) counted in their own week"
        return None, "the sum of the incidents differs from the week's figure"

    def _shift(self, service: str, week: pd.Timestamp, columns: tuple[str, ...]) -> float:
        """Our interruptions counted in another week than their incident's (see the SQL)."""
        if self.shifts is None or not columns[0].endswith("interruptions"):
            return 0.0
        rows = self.shifts[(self.shifts["service_id"] == service) & (self.shifts["week"] == week)]
        return _sum_parts(rows, columns)

    def _has_major(self, service: str) -> bool:
        return bool(self.ours[(self.ours["service_id"] == service) & self.ours["major"]].shape[0])

    def _major_open_at_horizon(self, service: str, week: pd.Timestamp) -> bool:
        """A major incident of the service still open at PagerDuty's clock, in this week."""
        if self.horizon is None or pd.isna(self.horizon):
            return False
        majors = self.ours[(self.ours["service_id"] == service) & self.ours["major"]]
        open_then = majors["resolved_at"].isna() | (majors["resolved_at"] > self.horizon)
        week_end = (week + pd.Timedelta(days=7)).tz_localize(self.reporting_zone)
        return bool(open_then.any()) and week_end > self.horizon

    def _their_sum(self, service: str, week: pd.Timestamp, columns: tuple[str, ...]) -> float:
        if self.theirs.empty:
            return 0.0
        rows = self.theirs[(self.theirs["service_id"] == service) & (self.theirs["week"] == week)]
        return _sum_parts(rows, columns)


def compare_service_weeks(
    ours_weeks: pd.DataFrame, pd_weeks: list[dict], context: WeekContext
) -> pd.DataFrame:
    """One row per differing (service, week, metric)."""
    mine = {
        (row["service_id"], pd.Timestamp(row["week_start"])): row
        for row in ours_weeks.to_dict("records")
    }
    theirs = {
        (row["service_id"], pd.Timestamp(str(row["range_start"])[:10])): row for row in pd_weeks
    }
    rows: list[dict[str, Any]] = []
    for key in sorted(set(mine) | set(theirs)):
        ours_row, their_row = mine.get(key, {}), theirs.get(key, {})
        for metric in WEEK_METRICS:
            ours_value, their_value = ours_row.get(metric), their_row.get(metric)
            if metric.startswith("total_"):
                ours_value, their_value = ours_value or 0, their_value or 0
            if same(ours_value, their_value, TOLERANCE.get(metric, 0)):
                continue
            gap = _gap(ours_value, their_value)
            service, week = key
            rows.append(
                _difference(
                    "service_week",
                    f"{service}|{week.date()}",
                    metric,
                    ours_value,
                    their_value,
                    context.reason(metric, service, week, gap, their_row),
                    service_id=service,
                    week_start=week.date(),
                )
            )
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _difference(
    scope: str,
    key: str,
    metric: str,
    ours: Any,
    theirs: Any,
    explained: tuple[str | None, str],
    service_id: str | None = None,
    week_start: date | None = None,
) -> dict[str, Any]:
    """One row of the differences table (``DIFF_COLUMNS``); ``explained`` is (reason, detail)."""
    reason, detail = explained
    return {
        "scope": scope,
        "key": key,
        "service_id": service_id,
        "week_start": week_start,
        "metric": metric,
        "ours": ours,
        "pagerduty": theirs,
        "reason": reason,
        "detail": detail,
    }


def _gap(ours: Any, theirs: Any) -> float:
    try:
        return float(ours) - float(theirs)
    except (TypeError, ValueError):
        return float("nan")


RESPONDER_SUMS = {
    "total_notifications": ("total_notifications",),
    "total_interruptions": INTERRUPTION_PARTS,
    **{f"total_{part}": (part,) for part in INTERRUPTION_PARTS},
}
RESPONDER_OTHERS = ("total_incidents_acknowledged", "total_engaged_seconds")
ON_CALL = ("total_seconds_on_call", "total_seconds_on_call_level_1")
ON_CALL_ALL = (*ON_CALL, "total_seconds_on_call_level_2_plus")


def compare_responders(
    ours: dict[str, Any], pd_rows: list[dict], context: WeekContext
) -> pd.DataFrame:
    """The all-responders totals of the period (PagerDuty's chunks summed)."""
    rows = []
    for metric in (*RESPONDER_SUMS, *RESPONDER_OTHERS, *ON_CALL_ALL):
        ours_value = float(ours.get(metric) or 0)
        their_value = float(sum((row.get(metric) or 0) for row in pd_rows))
        if same(ours_value, their_value, 1.0):
            continue
        explained = _responder_reason(metric, ours_value - their_value, context)
        rows.append(_difference("responders", "all", metric, ours_value, their_value, explained))
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _responder_reason(metric: str, gap: float, context: WeekContext) -> tuple[str | None, str]:
    if metric in ON_CALL_ALL:
        return None, "on-call time has no incident-level explanation"
    diffs = context.diffs
    if metric in RESPONDER_SUMS:
        columns = RESPONDER_SUMS[metric]
        parts = _sum_parts(context.ours, columns) - (
            _sum_parts(context.theirs, columns) if not context.theirs.empty else 0.0
        )
        if not same(parts, gap, 0):
            return None, "the sum of the incidents differs from the responders' figure"
        related = diffs[diffs["metric"].isin(("incident", *columns))]
        return _explain(related)
    related = diffs[
        diffs["metric"].isin(("incident", "seconds_to_first_ack", "seconds_to_resolve"))
    ]
    related = related[related["reason"].isin([r.ANALYTICS_LAG]) | related["reason"].isna()]
    return _explain(related)
