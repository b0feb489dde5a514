"""The report's vocabulary: the ISO week, the formatting of figures, a headline metric and
:class:`ReportData` (everything one report shows). No I/O here."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from reports import charts

TREND_WEEKS = 12
REQUIRED_MARTS = (
    "incidents",
    "service_weekly",
    "team_weekly",
    "responder_weekly",
    "impact_windows",
)
TABLE_NAMES = (
    "headline",
    "team_weekly",
    "service_weekly",
    "responders",
    "impact_windows",
    "noisy_templates",
    "recommendations",
    "sev_priorities",
    "sev_incidents",
)
# Metrics whose definitions the report quotes from docs/metrics.md, in footnote order.
DEFINED_COLUMNS = (
    "total_incident_count",
    "seconds_to_first_ack",
    "seconds_to_resolve",
    "mean_seconds_to_first_ack",
    "mean_seconds_to_resolve",
    "noise_ratio",
    "is_noise",
    "interruption",
    "bucket",
    "total_interruptions",
    "is_major",
    "major_priorities",
    "sev_longest_incident",
    "sev_responders",
    "impact_window",
    "up_time_pct",
    "current_major_free_streak",
    "longest_major_free_streak",
    "stale_open_majors",
    "health_score",
    "overloaded",
)
# The weekly metrics compared against the previous week for "what got worse", and which
# direction is worse. Up-time is the one where lower is worse.
WORSENING = {
    "total_incident_count": ("incidents", "lower"),
    "mean_seconds_to_first_ack": ("MTTA", "lower"),
    "mean_seconds_to_resolve": ("MTTR", "lower"),
    "total_sleep_hour_interruptions": ("sleep interruptions", "lower"),
    "noise_ratio": ("noise", "lower"),
    "total_major_incidents": ("major incidents", "lower"),
    "up_time_pct": ("up-time", "higher"),
}
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class ReportError(RuntimeError):
    """The report cannot be produced; the message is one line for the CLI to print."""


# --------------------------------------------------------------------------- weeks


@dataclass(frozen=True)
class ReportWeek:
    """One ISO week (Monday 00:00 to Monday 00:00) in the reporting time zone."""

    monday: date
    zone: str = "UTC"

    @classmethod
    def parse(cls, label: str, zone: str = "UTC") -> ReportWeek:
        """``YYYY-Www`` (ISO 8601 week) -> the week; ReportError when malformed."""
        match = _WEEK.match(label.strip())
        if not match:
            raise ReportError(f"--week must look like 2026-W47 (ISO year and week), got {label!r}")
        try:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError as exc:
            raise ReportError(f"--week {label}: no such ISO week ({exc})") from exc
        return cls(monday, zone)

    @classmethod
    def containing(cls, instant: datetime, zone: str = "UTC") -> ReportWeek:
        """The week in which ``instant`` falls, in the reporting zone."""
        local = instant.astimezone(ZoneInfo(zone)).date()
        return cls(local - timedelta(days=local.weekday()), zone)

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(0), tzinfo=ZoneInfo(self.zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(
            self.monday + timedelta(days=7), time(0), tzinfo=ZoneInfo(self.zone)
        )

    def shift(self, weeks: int) -> ReportWeek:
        return ReportWeek(self.monday + timedelta(weeks=weeks), self.zone)

    def __str__(self) -> str:
        return self.label


# --------------------------------------------------------------------------- formatting


def format_count(value: object) -> str:
    """An integer count with thousands separators; em dash for missing."""
    if value is None or pd.isna(value):
        return "—"
    return f"{int(round(float(value))):,}"


def format_ratio(value: object) -> str:
    """A 0-1 ratio as a percentage with one decimal (``0.237`` -> ``23.7%``)."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value) * 100:.1f}%"


def format_pct(value: object) -> str:
    """A 0-100 percentage with two decimals (up-time: ``99.87%``)."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):.2f}%"


def format_instant(value: object, zone: str = "UTC") -> str:
    """An instant as ``2026-11-18 03:12 UTC`` in the reporting zone."""
    if value is None or pd.isna(value):
        return "—"
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    local = stamp.tz_convert(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


FORMATTERS = {
    "count": format_count,
    "duration": charts.format_duration,
    "ratio": format_ratio,
    "pct": format_pct,
}


def _num(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


@dataclass
class HeadlineMetric:
    """One headline figure: this week, the previous week and the 12-week trend."""

    key: str
    label: str
    kind: str  # count | duration | ratio | pct
    better: str  # lower | higher
    value: float | None
    previous: float | None
    trend: list[float | None]
    note: str = ""

    @property
    def display(self) -> str:
        return FORMATTERS[self.kind](self.value)

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return 100.0 * self.change / abs(self.previous)

    @property
    def direction(self) -> str:
        """worse | better | same | unknown (relative to what is good for this metric)."""
        change = self.change
        if change is None:
            return "unknown"
        if abs(change) < 1e-9:
            return "same"
        up_is_bad = self.better == "lower"
        return "worse" if (change > 0) == up_is_bad else "better"

    @property
    def change_display(self) -> str:
        change = self.change
        if change is None:
            return "no previous week"
        arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
        if self.kind == "count":
            text = f"{change:+,.0f}"
        elif self.kind == "duration":
            sign = "+" if change > 0 else ("-" if change < 0 else "±")
            text = sign + charts.format_duration(abs(change))
        elif self.kind == "ratio":
            text = f"{change * 100:+.1f} pp"
        else:
            text = f"{change:+.2f} pp"
        if self.kind in ("count", "duration") and self.change_pct is not None:
            pct = self.change_pct
            text += " (±0%)" if abs(pct) < 0.5 else f" ({pct:+.0f}%)"
        return f"{arrow} {text} vs previous week"


# --------------------------------------------------------------------------- data


@dataclass
class ReportData:
    """Everything one report shows, already read and (when asked) anonymized."""

    week: ReportWeek
    trend_weeks: list[ReportWeek]
    data_start: datetime | None
    data_end: datetime | None
    freshness: datetime | None
    headline: list[HeadlineMetric]
    account_trend: pd.DataFrame
    teams: pd.DataFrame
    services: pd.DataFrame
    responders: pd.DataFrame
    sleep_nights: pd.DataFrame | None
    impact_windows: pd.DataFrame
    impact_incidents: pd.DataFrame
    stale_majors: pd.DataFrame
    templates: pd.DataFrame | None
    template_count_column: str | None
    recommendations: pd.DataFrame | None
    definitions: dict[str, str | None]
    # The SEV section: one row per major priority and the week's incidents of those priorities
    # (None for a warehouse built before int_major_priorities).
    sev: pd.DataFrame | None = None
    sev_incidents: pd.DataFrame | None = None
    # The breakdown by one custom field, when asked for (--by-field), and its display name.
    by_field: pd.DataFrame | None = None
    by_field_label: str | None = None
    streaks: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    anonymized: bool = False

    @property
    def incident_count(self) -> int:
        return int(self.headline[0].value or 0)


def _ts(value: object) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime()


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.date
