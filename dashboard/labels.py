"""Words for the pages: metric definitions (quoted from docs/metrics.md), captions, week labels
and display names. No warehouse access except through :mod:`dashboard.data`."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pandas as pd

from dashboard import data
from etl.queries.definitions import definition as shared_definition

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


def parse_evidence(evidence: object) -> object:
    """A recommendation's evidence as a JSON value for ``st.json`` (text if not valid JSON)."""
    if isinstance(evidence, dict | list):
        return evidence
    try:
        return json.loads(str(evidence))
    except (TypeError, ValueError):
        return {"evidence": str(evidence)}


# (label, before column, after column) of the replay, as the recommendations mart names them.
REPLAY_PAIRS = (
    ("Incidents", "incidents_before", "incidents_after"),
    ("Notifications", "notifications_before", "notifications_after"),
    ("Sleep interruptions", "sleep_interruptions_before", "sleep_interruptions_after"),
)


def names(frame: pd.DataFrame, id_column: str, name_column: str) -> dict[str, str]:
    """``{id: display name}`` for a selectbox, skipping rows without an id."""
    return {
        str(key): str(name) if pd.notna(name) else str(key)
        for key, name in zip(frame[id_column], frame[name_column], strict=True)
        if pd.notna(key)
    }


def iso_week_label(week_start: date) -> str:
    """``2026-W47 (Mon 16 Nov)`` for a week's Monday; incomplete weeks say so."""
    year, week, _ = week_start.isocalendar()
    label = f"{year}-W{week:02d} (Mon {week_start:%d %b})"
    return label if is_complete_week(week_start) else f"{label}, incomplete"


def is_complete_week(week_start: date) -> bool:
    """Whether the data reaches the week's Sunday (the reporting time zone)."""
    return week_start + timedelta(days=6) <= data.filter_choices().last_day


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
