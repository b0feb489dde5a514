"""``pagerlens reconcile``: our marts against PagerDuty's own Analytics, with reasons.

:func:`run_reconcile` fetches PagerDuty's Analytics for a period (:mod:`etl.reconcile.fetch`),
reads our side through the one read path (``reader.query("reconcile/...")``), compares incident
by incident (:mod:`etl.reconcile.incidents`), service-week by service-week and for all
responders (:mod:`etl.reconcile.weekly`), and writes the differences, each with its named
reason (:mod:`etl.reconcile.reasons`, defined in docs/metrics.md) or none, as CSV beside a
JSON summary the dashboard's Data page shows.

Example::

    result = run_reconcile(db, api_url=url, token=token, since=since, until=until, out_dir=out)
    print(result.summary_lines())
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from etl.credentials import Secret
from etl.pd_client import PagerDutyClient
from etl.queries import Reader
from etl.queries.reconcile_results import DIFFERENCES, SUMMARY, results_dir
from etl.reconcile import reasons as r
from etl.reconcile.fetch import (
    RAW_INCIDENTS,
    RESPONDER_METRICS,
    SERVICE_METRICS,
    Analytics,
    fetch_analytics,
)
from etl.reconcile.incidents import DIFF_COLUMNS, compare_incidents
from etl.reconcile.weekly import (
    INTERRUPTION_WEEK,
    WeekContext,
    compare_responders,
    compare_service_weeks,
)

DIFFERENCES_CSV = "reconcile_differences.csv"
SUMMARY_JSON = "reconcile_summary.json"
REASON_TEXTS = {
    **r.REASONS,
    INTERRUPTION_WEEK: "pagerlens counts an interruption in the week of its first "
    "notification, PagerDuty in its incident's week (docs/metrics.md total_interruptions)",
}
WHAT_IS_COMPARED = {
    RAW_INCIDENTS: "incident by incident",
    SERVICE_METRICS: "service-week by service-week",
    RESPONDER_METRICS: "all responders' totals",
}


@dataclass
class ReconcileResult:
    """The differences of one reconciliation and what could not be checked."""

    since: datetime
    until: datetime
    differences: pd.DataFrame
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def reason_counts(self) -> dict[str, int]:
        """Differences per named reason (a difference with two reasons counts for both)."""
        counts: Counter[str] = Counter()
        for reason in self.differences["reason"].dropna():
            counts.update(r.split(reason))
        return dict(sorted(counts.items()))

    @property
    def unexplained(self) -> int:
        return int(self.differences["reason"].isna().sum())

    def summary(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "compared": self.compared,
            "differences": len(self.differences),
            "explained": self.reason_counts(),
            "unexplained": self.unexplained,
            "refused": self.refused,
            "notes": self.notes,
            "reasons": {name: REASON_TEXTS[name] for name in self.reason_counts()},
        }

    def summary_lines(self) -> list[str]:
        """The printed summary."""
        lines = [
            f"reconcile {self.since.date()} .. {self.until.date()}: "
            + ", ".join(f"{n} {what}" for what, n in self.compared.items())
        ]
        for endpoint, why in self.refused.items():
            lines.append(
                f"could not compare {WHAT_IS_COMPARED[endpoint]}: POST {endpoint} refused ({why})"
            )
        lines.extend(self.notes)
        for name, count in self.reason_counts().items():
            lines.append(f"  {count:6d}  {name}: {REASON_TEXTS[name]}")
        lines.append(f"  {self.unexplained:6d}  unexplained")
        return lines


def run_reconcile(
    db_path: str | Path,
    *,
    api_url: str,
    token: Secret | str,
    since: datetime,
    until: datetime,
    out_dir: Path | None = None,
    config: Any = None,
    client: PagerDutyClient | None = None,
) -> ReconcileResult:
    """Compare the warehouse at ``db_path`` with PagerDuty's Analytics over ``[since, until)``."""
    from etl.config import Config

    config = config or Config()
    zone = config.reporting_time_zone
    reader = Reader(db_path)
    reader.connection()  # no warehouse: say so before any request
    try:
        analytics = _fetch(client, token, api_url, since, until, zone)
        result = ReconcileResult(since, until, pd.DataFrame(columns=DIFF_COLUMNS))
        result.refused = analytics.refused
        result.differences = _compare(reader, analytics, since, until, zone, result)
    finally:
        reader.close()
    if out_dir is not None:
        result.files = write_outputs(result, Path(out_dir))
    try:  # the copy the dashboard's Data page shows
        write_outputs(result, results_dir(db_path), (DIFFERENCES, SUMMARY))
    except OSError as exc:
        result.notes.append(f"could not keep the result beside the warehouse: {exc}")
    return result


def _fetch(client, token, api_url: str, since, until, zone: str) -> Analytics:
    if client is not None:
        return fetch_analytics(client, since, until, zone)
    with PagerDutyClient(token, base_url=api_url) as owned:
        return fetch_analytics(owned, since, until, zone)


def _compare(
    reader: Reader, analytics: Analytics, since, until, zone: str, result: ReconcileResult
) -> pd.DataFrame:
    ours = reader.query("reconcile/incidents", start_ts=since, end_ts=until)
    ended = reader.query("reconcile/data_end")
    data_end = None
    if ended is not None and not ended.empty and pd.notna(ended["data_end"].iloc[0]):
        data_end = pd.Timestamp(ended["data_end"].iloc[0]).tz_convert("UTC")
    raw_zone = analytics.raw_time_zone or zone
    parts = []
    if RAW_INCIDENTS not in analytics.refused:
        parts.append(compare_incidents(ours, analytics.raw_incidents, raw_zone, data_end))
        result.compared["incidents"] = len(ours)
    incident_diffs = parts[0] if parts else pd.DataFrame(columns=DIFF_COLUMNS)
    week_zone = analytics.service_time_zone or zone
    if RAW_INCIDENTS in analytics.refused:
        result.notes.append("weekly and responder differences cannot be explained without raw")
    start_week, end_week = _weeks(since, until, zone)
    shifts = reader.query("reconcile/interruption_shifts", start_week=start_week, end_week=end_week)
    context = WeekContext(
        ours, analytics.raw_incidents, raw_zone, week_zone, zone, incident_diffs, shifts
    )
    if SERVICE_METRICS not in analytics.refused:
        weeks = reader.query("reconcile/service_weeks", start_week=start_week, end_week=end_week)
        in_range = [
            row
            for row in analytics.service_weeks
            if str(start_week) <= str(row.get("range_start", ""))[:10] < str(end_week)
        ]
        parts.append(compare_service_weeks(weeks, in_range, context))
        result.compared["service-weeks"] = len(weeks)
    if RESPONDER_METRICS not in analytics.refused:
        if _whole_weeks(since, until, zone):
            totals = reader.query("reconcile/responders", start_week=start_week, end_week=end_week)
            mine = totals.iloc[0].to_dict() if not totals.empty else {}
            parts.append(compare_responders(mine, analytics.responders, context))
            result.compared["responder totals"] = 1
        else:
            result.notes.append(
                "responders not compared: --since and --until must be Mondays in the reporting "
                f"time zone ({zone}) because our responder figures are weekly"
            )
    parts = [part for part in parts if not part.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DIFF_COLUMNS)


def _weeks(since: datetime, until: datetime, zone: str):
    """The Mondays (dates) whose weeks start within ``[since, until)`` in ``zone``."""
    first = pd.Timestamp(since).tz_convert(zone)
    last = pd.Timestamp(until).tz_convert(zone)
    start = (first - timedelta(days=first.weekday())).date()
    if first.weekday() or first.time() != datetime.min.time():
        start = start + timedelta(days=7)
    return start, last.date()


def _whole_weeks(since: datetime, until: datetime, zone: str) -> bool:
    def monday_midnight(moment: datetime) -> bool:
        local = pd.Timestamp(moment).tz_convert(zone)
        return local.weekday() == 0 and local.time() == datetime.min.time()

    return monday_midnight(since) and monday_midnight(until)


def write_outputs(
    result: ReconcileResult, out_dir: Path, names: tuple[str, str] = (DIFFERENCES_CSV, SUMMARY_JSON)
) -> list[Path]:
    """The differences CSV and the summary JSON, each written whole then renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, summary_path = out_dir / names[0], out_dir / names[1]
    texts = (
        (csv_path, result.differences.to_csv(index=False)),
        (summary_path, json.dumps(result.summary(), indent=2, default=str)),
    )
    for path, text in texts:
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    return [csv_path, summary_path]


__all__ = ["ReconcileResult", "run_reconcile", "write_outputs", "DIFFERENCES_CSV", "SUMMARY_JSON"]
