"""The weekly reliability review: one ISO week of the warehouse as a PDF and one CSV per table.

``write_report`` reads the published warehouse through ``etl.queries.report`` (never writes it),
assembles the week's figures (:func:`collect`), turns them into stable tables (:func:`tables`),
and renders the PDF (charts from ``reports.charts`` exported to SVG through one Chromium, an
autoescaped Jinja2 template, WeasyPrint). Every failure a user can cause or meet (no warehouse,
no marts, a week outside the data, a malformed ``--week``) raises :class:`ReportError` with a
one-line reason for the CLI to print.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from etl.config import Config, load_config
from etl.queries import Reader, WarehouseMissing
from etl.queries import definitions as metric_definitions
from etl.queries import report as q
from reports import charts
from reports.anonymize import Pseudonymizer, load_salt

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
_TEMPLATE_COUNT_COLUMNS = (
    "incidents_this_week",
    "incident_count",
    "incidents",
    "occurrences",
    "alert_count",
    "count",
)


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


def _period(reader: Reader) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(data_start, data_end, freshness): the view, else the last sync, else the incidents."""
    start = end = freshness = None
    sync = q.last_sync(reader)
    if sync is not None and not sync.empty:
        row = sync.iloc[0]
        freshness = _ts(row["finished_at"])
        start, end = _ts(row["since"]), _ts(row["until"]) or freshness
    view = q.data_period(reader)
    if view is not None and not view.empty:
        start = _ts(view.iloc[0]["data_start"]) or start
        end = _ts(view.iloc[0]["data_end"]) or end
    span = q.incident_span(reader).iloc[0]
    if start is None:
        start = _ts(span["first_incident_at"])
    if end is None:
        last = _ts(span["last_incident_at"])
        end = last + timedelta(microseconds=1) if last else None
    return start, end, freshness


def _streaks(
    windows: pd.DataFrame, data_start: datetime | None, as_of: datetime
) -> tuple[float | None, float | None]:
    """(current, longest) seconds without an account-wide impact window, up to ``as_of``."""
    if data_start is None or as_of <= data_start:
        return None, None
    spans = sorted(
        (max(_ts(s), data_start), min(_ts(e), as_of))
        for s, e in zip(windows["window_start"], windows["window_end"], strict=True)
        if _ts(s) < as_of and _ts(e) > data_start
    )
    gaps = []
    cursor = data_start
    for start, end in spans:
        if start > cursor:
            gaps.append((start - cursor).total_seconds())
        cursor = max(cursor, end)
    current = max((as_of - cursor).total_seconds(), 0.0)
    gaps.append(current)
    return current, max(gaps)


def _impacted_seconds(windows: pd.DataFrame, week: ReportWeek) -> float:
    total = 0.0
    for s, e in zip(windows["window_start"], windows["window_end"], strict=True):
        overlap = (min(_ts(e), week.end) - max(_ts(s), week.start)).total_seconds()
        total += max(overlap, 0.0)
    return total


def _compare_groups(
    df: pd.DataFrame, key: str, name: str, week: ReportWeek, previous: ReportWeek
) -> pd.DataFrame:
    """This week's rows with previous-week values, changes and the metric that got worst."""
    if df.empty:
        return df.assign(
            **{c: pd.Series(dtype="object") for c in ("worst_change_metric", "worst_change")}
        )
    df = df.copy()
    df["week_start"] = _dates(df["week_start"])
    current = df[df["week_start"] == week.monday].set_index(key)
    before = df[df["week_start"] == previous.monday].set_index(key)
    keys = list(dict.fromkeys([*current.index, *before.index]))
    rows = []
    for group in keys:
        cur = current.loc[group] if group in current.index else None
        old = before.loc[group] if group in before.index else None
        base = cur if cur is not None else old
        row: dict[str, object] = {key: group, name: base[name], "week_start": week.monday}
        for column in df.columns:
            if column in (key, name, "week_start"):
                continue
            if cur is not None:
                row[column] = cur[column]
            else:  # no incident and no interruption this week: zero counts, no durations
                row[column] = 0 if str(column).startswith("total_") else None
        worst_metric, worst = None, 0.0
        for column, (label, better) in WORSENING.items():
            if column not in df.columns:
                continue
            now = _num(row.get(column))
            then = _num(old[column]) if old is not None else None
            row[f"previous_{column}"] = then
            if now is None:
                continue
            if better == "higher":
                change = (then - now) / then if then else 0.0
            elif then:
                change = (now - then) / then
            else:
                # Nothing the week before: a first occurrence counts as a doubling.
                change = 1.0 if now > 0 else 0.0
            if change > worst:
                worst_metric, worst = label, change
        row["worst_change_metric"] = worst_metric
        row["worst_change"] = worst if worst_metric else 0.0
        rows.append(row)
    out = pd.DataFrame(rows)
    count = "total_incident_count" if "total_incident_count" in out.columns else key
    return out.sort_values(
        ["worst_change", count, name], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def _pick_template_count(df: pd.DataFrame | None) -> str | None:
    if df is None:
        return None
    for column in _TEMPLATE_COUNT_COLUMNS:
        if column in df.columns:
            return column
    return None


def collect(
    db_path: str | Path,
    week: str | None = None,
    config: Config | None = None,
    anonymize: bool = False,
) -> ReportData:
    """Read everything the report shows for one week; ReportError when it cannot."""
    config = config or load_config()
    zone = config.reporting_time_zone
    reader = Reader(db_path)
    try:
        try:
            reader.connection()
        except WarehouseMissing as exc:
            raise ReportError(str(exc)) from exc
        missing = [t for t in REQUIRED_MARTS if not reader.has_table(t)]
        if missing:
            raise ReportError(
                f"the warehouse at {db_path} has no marts yet ({', '.join(missing)} missing): "
                f"run `pagerlens sync` or `pagerlens build` first"
            )
        return _collect(reader, week, config, zone, anonymize, db_path)
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"cannot read the warehouse at {db_path}: {first_line}") from exc
    finally:
        reader.close()


def _collect(
    reader: Reader,
    week_label: str | None,
    config: Config,
    zone: str,
    anonymize: bool,
    db_path: str | Path,
) -> ReportData:
    data_start, data_end, freshness = _period(reader)
    if data_end is None:
        raise ReportError(f"the warehouse at {db_path} holds no incidents yet: nothing to report")
    if week_label:
        week = ReportWeek.parse(week_label, zone)
    else:
        # The last complete week: the one before the week in which the data ends.
        week = ReportWeek.containing(data_end - timedelta(microseconds=1), zone)
        if week.end > data_end:
            week = week.shift(-1)
    notes: list[str] = []
    failed = q.sync_failures(reader)
    if freshness is not None:
        failed = failed[failed["failed_at"] > pd.Timestamp(freshness)]
    if not failed.empty:
        latest = failed.iloc[0]
        notes.append(
            f"{len(failed)} sync run(s) failed after this data was synced; the latest at "
            f"{format_instant(latest['failed_at'], zone)}: {latest['reason']}"
        )
    if week.start >= data_end or (data_start is not None and week.end <= data_start):
        raise ReportError(
            f"week {week.label} is outside the synced data "
            f"({format_instant(data_start, zone)} to {format_instant(data_end, zone)})"
        )
    if week.end > data_end:
        notes.append(
            f"Week {week.label} is not complete: the data ends {format_instant(data_end, zone)}."
        )
    if data_start is not None and week.start < data_start:
        notes.append(
            f"Week {week.label} is not complete: the data starts "
            f"{format_instant(data_start, zone)}."
        )
    previous = week.shift(-1)
    trend_weeks = [week.shift(-k) for k in range(TREND_WEEKS - 1, -1, -1)]

    account = q.account_weekly(reader, trend_weeks[0].start, week.end, zone)
    account["week_start"] = _dates(account["week_start"])
    mondays = pd.DataFrame({"week_start": [w.monday for w in trend_weeks]})
    account = mondays.merge(account, on="week_start", how="left")
    for column in (
        "total_incident_count",
        "total_major_incidents",
        "total_noise_incidents",
        "total_incidents_acknowledged",
        "total_incidents_auto_resolved",
    ):
        account[column] = account[column].fillna(0).astype("int64")
    interruptions = q.account_interruptions_weekly(reader, trend_weeks[0].monday, week.monday)
    interruptions["week_start"] = _dates(interruptions["week_start"])
    account = account.merge(interruptions, on="week_start", how="left")
    for column in (
        "total_interruptions",
        "total_business_hour_interruptions",
        "total_off_hour_interruptions",
        "total_sleep_hour_interruptions",
    ):
        account[column] = account[column].fillna(0).astype("int64")
    windows = q.account_impact_windows(reader, week.end)
    account["up_time_pct"] = [
        # docs/metrics.md: over the length of the week (604,800 s, except across a DST change)
        100.0 * (1 - _impacted_seconds(windows, w) / (w.end - w.start).total_seconds())
        if data_start is None or w.end > data_start
        else None
        for w in trend_weeks
    ]
    streak_pairs = [_streaks(windows, data_start, min(w.end, data_end)) for w in trend_weeks]
    account["current_major_free_seconds"] = [p[0] for p in streak_pairs]
    account["longest_major_free_seconds"] = [p[1] for p in streak_pairs]

    # Weeks that end before the data starts have no data, not zero incidents.
    covered = [data_start is None or w.end > data_start for w in trend_weeks]
    uncovered = [not ok for ok in covered]
    if any(uncovered):
        numeric = [c for c in account.columns if c != "week_start"]
        account[numeric] = account[numeric].astype("float64")
        account.loc[uncovered, numeric] = float("nan")

    def metric(key: str, label: str, kind: str, better: str, note: str = "") -> HeadlineMetric:
        series = [_num(v) if ok else None for v, ok in zip(account[key], covered, strict=True)]
        return HeadlineMetric(key, label, kind, better, series[-1], series[-2], series, note)

    headline = [
        metric("total_incident_count", "Incidents", "count", "lower"),
        metric("mean_seconds_to_first_ack", "MTTA (mean)", "duration", "lower"),
        metric("p90_seconds_to_first_ack", "MTTA (p90)", "duration", "lower"),
        metric("mean_seconds_to_resolve", "MTTR (mean)", "duration", "lower"),
        metric("p90_seconds_to_resolve", "MTTR (p90)", "duration", "lower"),
        metric("noise_ratio", "Noise ratio", "ratio", "lower"),
        metric("total_sleep_hour_interruptions", "Sleep-hour interruptions", "count", "lower"),
        metric("up_time_pct", "Up-time (all services)", "pct", "higher"),
        metric(
            "current_major_free_seconds",
            "Without a major incident (current)",
            "duration",
            "higher",
            "at the end of the week",
        ),
        metric(
            "longest_major_free_seconds",
            "Without a major incident (longest)",
            "duration",
            "higher",
            "since the data starts",
        ),
    ]
    if headline[0].value == 0:
        notes.append(f"No incidents were created in week {week.label}.")

    teams = _compare_groups(
        q.team_weekly(reader, week.monday, previous.monday), "team_id", "team_name", week, previous
    )
    services = _compare_groups(
        q.service_weekly(reader, week.monday, previous.monday),
        "service_id",
        "service_name",
        week,
        previous,
    )

    responders = q.responders(reader, week.monday, previous.monday)
    responders["week_start"] = _dates(responders["week_start"])
    if "team_id" in responders.columns:
        names = q.team_names(reader)
        responders = responders.merge(names, on="team_id", how="left")
    prev_interruptions = responders[responders["week_start"] == previous.monday].set_index(
        "user_id"
    )["total_interruptions"]
    responders = responders[responders["week_start"] == week.monday].copy()
    responders["previous_total_interruptions"] = (
        responders["user_id"].map(prev_interruptions).fillna(0).astype("int64")
    )
    if "overloaded" not in responders.columns:
        responders["overloaded"] = False
    responders["overloaded"] = responders["overloaded"].fillna(False).astype(bool)
    sort_keys = ["overloaded", "health_score", "total_interruptions", "user_name"]
    sort_keys = [k for k in sort_keys if k in responders.columns]
    responders = responders.sort_values(
        sort_keys,
        ascending=[k in ("health_score", "user_name") for k in sort_keys],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)

    sleep = q.sleep_nights(reader, week.monday)
    if sleep is None:
        notes.append(
            "Sleep interruptions by night need the interruptions model "
            "(int_interruptions), which this warehouse lacks: weekly totals only."
        )

    impact = q.impact_windows(reader, week.start, week.end)
    impact_incidents = q.impact_incidents(reader, week.start, week.end)
    stale = q.stale_open_majors(reader, data_end, config.stale_open_major_days)

    templates = q.noisy_templates(reader, week.start, week.end)
    count_column = _pick_template_count(templates)
    if templates is not None and count_column:
        templates = templates.sort_values(
            [count_column, "template"], ascending=[False, True], kind="stable"
        ).reset_index(drop=True)
    recommendations = q.recommendations(reader)

    data = ReportData(
        week=week,
        trend_weeks=trend_weeks,
        data_start=data_start,
        data_end=data_end,
        freshness=freshness,
        headline=headline,
        account_trend=account,
        teams=teams,
        services=services,
        responders=responders,
        sleep_nights=sleep,
        impact_windows=impact,
        impact_incidents=impact_incidents,
        stale_majors=stale,
        templates=templates,
        template_count_column=count_column,
        recommendations=recommendations,
        definitions=metric_definitions.definitions(DEFINED_COLUMNS),
        notes=notes,
        streaks={"current": headline[8].value, "longest": headline[9].value},
    )
    if anonymize:
        try:
            salt = load_salt(db_path)
        except OSError as exc:
            raise ReportError(
                f"cannot keep the anonymization salt next to the warehouse ({exc.strerror}): "
                f"set PAGERLENS_ANON_SALT to a secret string"
            ) from exc
        _anonymize(data, Pseudonymizer(salt), reader)
    return data


def _anonymize(data: ReportData, pseudonymizer: Pseudonymizer, reader: Reader) -> None:
    """Replace responder names and ids with pseudonyms, and scrub names from every text."""
    everyone = reader.df("select distinct user_id, user_name from responder_weekly")
    pseudonymizer.register(dict(zip(everyone["user_id"], everyone["user_name"], strict=True)))
    for frame in (data.responders, data.sleep_nights):
        if frame is None or frame.empty:
            continue
        frame["user_name"] = [pseudonymizer.pseudonym(u) for u in frame["user_id"]]
        frame["user_id"] = frame["user_name"]
    for attribute in (
        "teams",
        "services",
        "responders",
        "sleep_nights",
        "impact_windows",
        "impact_incidents",
        "stale_majors",
        "templates",
        "recommendations",
    ):
        frame = getattr(data, attribute)
        if frame is None or frame.empty:
            continue
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(pseudonymizer.scrub)
    data.anonymized = True


# --------------------------------------------------------------------------- tables (CSV)


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
# Counts that DuckDB returns as HUGEINT (sum of integers) arrive as floats in pandas; they are
# written as integers so a CSV says 34, not 34.0.
_COUNT_COLUMN = re.compile(
    r"^(total_|incidents_|notifications_|sleep_interruptions|major_incidents|pages_saved|"
    r"previous_total_|noise_incidents_)|(_count|_before|_after|_acknowledged|_this_week)$"
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
    }
    return {name: _iso_frame(frame) for name, frame in out.items()}


# --------------------------------------------------------------------------- entry point


def write_report(
    db_path: str | Path,
    *,
    week: str | None = None,
    out_dir: str | Path,
    formats: Sequence[str] = ("pdf", "csv"),
    anonymize: bool = False,
    config: Config | None = None,
) -> list[Path]:
    """Write the weekly reliability review; return the paths written (PDF first).

    ``week`` is an ISO week ``YYYY-Www`` in the reporting time zone, default the last complete
    week of the data. ``formats``: any of ``pdf``, ``csv``, ``parquet`` (one file per table for
    the last two: ``pagerlens-YYYY-Www-<table>.csv``). ``anonymize`` replaces responder names
    with stable pseudonyms in every output. Raises :class:`ReportError` with a one-line reason.
    """
    wanted = [f.lower() for f in formats]
    unknown = set(wanted) - {"pdf", "csv", "parquet"}
    if unknown:
        raise ReportError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    data = collect(db_path, week=week, config=config, anonymize=anonymize)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"pagerlens-{data.week.label}"
    written: list[Path] = []
    # Tables first: they need no browser, so a missing Chromium still leaves the CSVs behind.
    if "csv" in wanted or "parquet" in wanted:
        for name, frame in tables(data).items():
            if "csv" in wanted:
                path = out / f"{stem}-{name}.csv"
                frame.to_csv(path, index=False)
                written.append(path)
            if "parquet" in wanted:
                path = out / f"{stem}-{name}.parquet"
                frame.to_parquet(path, index=False)
                written.append(path)
    if "pdf" in wanted:
        from reports.render import RenderError

        try:
            written.insert(0, render_pdf(data, out / f"{stem}.pdf"))
        except RenderError as exc:
            raise ReportError(
                f"{exc} (the CSV files were written to {out})" if written else str(exc)
            ) from exc
    return written


# --------------------------------------------------------------------------- PDF


def _row_group(row: pd.Series, name_column: str) -> dict[str, str]:
    def delta_count(column: str) -> str:
        now, then = _num(row.get(column)), _num(row.get(f"previous_{column}"))
        if now is None or then is None:
            return ""
        return f"{now - then:+,.0f}" if now != then else "±0"

    worst = row.get("worst_change_metric")
    return {
        "name": str(row.get(name_column) or "(unnamed)"),
        "incidents": format_count(row.get("total_incident_count")),
        "incidents_delta": delta_count("total_incident_count"),
        "mtta_mean": charts.format_duration(row.get("mean_seconds_to_first_ack")),
        "mtta_p90": charts.format_duration(row.get("p90_seconds_to_first_ack")),
        "mttr_mean": charts.format_duration(row.get("mean_seconds_to_resolve")),
        "mttr_p90": charts.format_duration(row.get("p90_seconds_to_resolve")),
        "noise": format_ratio(row.get("noise_ratio")),
        "sleep": format_count(row.get("total_sleep_hour_interruptions")),
        "majors": format_count(row.get("total_major_incidents")),
        "up_time": format_pct(row.get("up_time_pct")),
        "worst": (
            f"{worst} +{100 * float(row['worst_change']):.0f}%"
            if isinstance(worst, str) and worst
            else "—"
        ),
    }


def _hours(seconds: object) -> str:
    value = _num(seconds)
    return "—" if value is None else f"{value / 3600:.1f} h"


def _context(data: ReportData, svgs: dict[str, str]) -> dict[str, object]:
    from reports.render import svg_data_uri

    zone = data.week.zone
    week = data.week
    last_day = week.monday + timedelta(days=6)
    uri = {key: svg_data_uri(svg) for key, svg in svgs.items()}

    tiles = [
        {
            "label": m.label,
            "value": m.display,
            "change": m.change_display,
            "direction": m.direction,
            "note": m.note,
            "spark": uri.get(f"spark_{m.key}"),
        }
        for m in data.headline
    ]

    responders = [
        {
            "name": str(r.get("user_name") or r.get("user_id")),
            "team": str(r.get("team_name")) if pd.notna(r.get("team_name", None)) else "—",
            "interruptions": format_count(r.get("total_interruptions")),
            "previous": format_count(r.get("previous_total_interruptions")),
            "business": format_count(r.get("total_business_hour_interruptions")),
            "off_hour": format_count(r.get("total_off_hour_interruptions")),
            "sleep": format_count(r.get("total_sleep_hour_interruptions")),
            "notifications": format_count(r.get("total_notifications")),
            "acks": format_count(r.get("total_incidents_acknowledged")),
            "on_call": _hours(r.get("total_seconds_on_call")),
            "health": "—"
            if _num(r.get("health_score")) is None
            else f"{float(r['health_score']):.0f}",
            "overloaded": bool(r.get("overloaded")),
            "reason": str(r.get("overload_reason"))
            if pd.notna(r.get("overload_reason", None))
            else "",
        }
        for _, r in data.responders.iterrows()
    ]

    incidents_by_window: dict[object, list[dict[str, str]]] = {}
    for _, inc in data.impact_incidents.iterrows():
        incidents_by_window.setdefault(pd.Timestamp(inc["window_start"]), []).append(
            {
                "number": format_count(inc.get("incident_number")),
                "title": str(inc.get("title") or ""),
                "service": str(inc.get("service_name") or "—"),
                "priority": str(inc.get("priority_name"))
                if pd.notna(inc.get("priority_name"))
                else "—",
                "duration": charts.format_duration(inc.get("seconds_to_resolve"))
                if pd.notna(inc.get("seconds_to_resolve"))
                else "still open",
            }
        )
    account_windows = data.impact_windows[data.impact_windows["scope"] == "account"]
    windows = [
        {
            "start": format_instant(w["window_start"], zone),
            "end": format_instant(w["window_end"], zone),
            "duration": charts.format_duration(w["duration_seconds"]),
            "in_week": charts.format_duration(
                max(
                    (
                        min(_ts(w["window_end"]), week.end)
                        - max(_ts(w["window_start"]), week.start)
                    ).total_seconds(),
                    0.0,
                )
            ),
            "incidents": incidents_by_window.get(pd.Timestamp(w["window_start"]), []),
        }
        for _, w in account_windows.iterrows()
    ]

    stale = [
        {
            "number": format_count(s.get("incident_number")),
            "title": str(s.get("title") or ""),
            "service": str(s.get("service_name") or "—"),
            "created": format_instant(s.get("created_at"), zone),
            "open_for": charts.format_duration(s.get("seconds_open")),
        }
        for _, s in data.stale_majors.iterrows()
    ]

    templates = None
    if data.templates is not None:
        count = data.template_count_column
        templates = [
            {
                "template": str(t.get("template") or ""),
                "service": str(t.get("service_name") or "—"),
                "count": format_count(t.get(count)) if count else "—",
                "auto": format_ratio(t.get("share_auto_resolved")),
                "acked": format_ratio(t.get("share_acknowledged")),
                "sleep": format_ratio(t.get("share_sleep_hours")),
            }
            for _, t in data.templates.head(10).iterrows()
        ]

    recommendations = None
    if data.recommendations is not None:
        recommendations = [
            {
                "title": str(r.get("title") or ""),
                "team": str(r.get("team_name") or "—"),
                "service": str(r.get("service_name") or "—"),
                "kind": str(r.get("kind") or ""),
                "pages_saved": format_count(r.get("pages_saved")),
                "sleep_saved": format_count(
                    (_num(r.get("sleep_interruptions_before")) or 0)
                    - (_num(r.get("sleep_interruptions_after")) or 0)
                )
                if "sleep_interruptions_before" in r
                else "—",
                "risk": str(r.get("risk") or "—"),
            }
            for _, r in data.recommendations.head(5).iterrows()
        ]

    found = {k: v for k, v in data.definitions.items() if v}
    missing = [k for k, v in data.definitions.items() if not v]
    freshness = (
        f"data as of {format_instant(data.freshness, zone)}"
        if data.freshness
        else f"data up to {format_instant(data.data_end, zone)} (no sync recorded)"
    )
    return {
        "week": week.label,
        "week_range": f"{week.monday:%a %d %b} to {last_day:%a %d %b %Y} ({zone})",
        "freshness": freshness,
        "generated_at": format_instant(datetime.now(ZoneInfo("UTC")), zone),
        "period": f"{format_instant(data.data_start, zone)} to "
        f"{format_instant(data.data_end, zone)}",
        "anonymized": data.anonymized,
        "notes": data.notes,
        "tiles": tiles,
        "charts": uri,
        "teams": [_row_group(r, "team_name") for _, r in data.teams.iterrows()],
        "services": [_row_group(r, "service_name") for _, r in data.services.head(25).iterrows()],
        "services_more": max(len(data.services) - 25, 0),
        "responders": responders[:20],
        "responders_more": max(len(responders) - 20, 0),
        "overloaded": [r for r in responders if r["overloaded"]],
        "has_sleep_detail": data.sleep_nights is not None,
        "windows": windows,
        "stale": stale,
        "templates": templates,
        "templates_counted_by": {"incidents_this_week": "incidents this week"}.get(
            data.template_count_column or "", (data.template_count_column or "").replace("_", " ")
        ),
        "templates_weekly": data.template_count_column == "incidents_this_week",
        "recommendations": recommendations,
        "definitions": found,
        "definitions_missing": missing,
    }


def _charts(data: ReportData) -> dict[str, object]:
    from reports.render import Chart

    week = data.week
    out: dict[str, Chart] = {}
    out["trend"] = Chart(
        charts.mtta_mttr_trend(data.account_trend, title="MTTA and MTTR, last 12 weeks"), 720, 300
    )
    out["incidents_trend"] = Chart(
        charts.weekly_trend(
            data.account_trend,
            "total_incident_count",
            label="Incidents",
            title="Incidents per week",
            color=charts.METRIC_COLORS["incidents"],
        ),
        720,
        220,
    )
    current_teams = (
        data.teams[data.teams.get("total_incident_count", 0) > 0]
        if not data.teams.empty
        else data.teams
    )
    out["teams"] = Chart(
        charts.bar_by_group(
            current_teams,
            group_column="team_name",
            value_column="total_incident_count",
            title="Incidents by team",
            value_label="Incidents",
        ),
        720,
    )
    out["services"] = Chart(
        charts.bar_by_group(
            data.services,
            group_column="service_name",
            value_column="mean_seconds_to_resolve",
            title="MTTR (mean) by service",
            value_label="MTTR",
            duration=True,
        ),
        720,
    )
    out["interruptions"] = Chart(
        charts.interruptions_by_bucket(data.responders, title="Interruptions per responder"), 720
    )
    if data.sleep_nights is not None:
        out["sleep"] = Chart(charts.sleep_interruptions_by_night(data.sleep_nights), 720)
    timeline = data.impact_windows.copy()
    if not timeline.empty:
        timeline["label"] = timeline["service_name"].where(
            timeline["service_name"].notna(), timeline["service_id"]
        )
        timeline["incident_count"] = timeline["incident_ids"].map(len)
    out["impact"] = Chart(
        charts.impact_timeline(
            timeline, start=week.start, end=week.end, title="Impact windows this week"
        ),
        720,
    )
    if data.templates is not None and data.template_count_column:
        out["templates"] = Chart(
            charts.noisiest_templates(data.templates, count_column=data.template_count_column), 720
        )
    return out


SPARK_COLORS = {"worse": "#B03A2E", "better": "#1E8449"}


def _sparklines(data: ReportData) -> dict[str, str]:
    from reports.render import sparkline_svg

    return {
        f"spark_{m.key}": sparkline_svg(m.trend, color=SPARK_COLORS.get(m.direction, "#555555"))
        for m in data.headline
    }


def render_pdf(data: ReportData, path: Path) -> Path:
    """Render the report's PDF: charts through one browser, then the template, then WeasyPrint."""
    from reports.render import figures_to_svg, html_to_pdf, render_html

    chart_specs = _charts(data)
    svgs = dict(zip(chart_specs, figures_to_svg(list(chart_specs.values())), strict=True))
    svgs.update(_sparklines(data))
    html = render_html("weekly.html", _context(data, svgs))
    return html_to_pdf(html, path)
