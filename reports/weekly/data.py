"""Collecting one week's frames through the read path (``Reader.query``): the data of the report.

Every figure comes from a mart or an intermediate model (the account's weekly headline from
``incident_weekly_by_dimension``, groups from ``team_weekly``/``service_weekly``, responders from
``responder_weekly``); this module picks the week, compares it with the previous one and pads
the 12-week trend. Up-time and the major-free streaks *as of the end of each trend week* are
measured here from the account-wide impact windows (the marts hold them only as of the end of
the data).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from etl.config import Config, load_config
from etl.queries import Reader, WarehouseMissing, sync_failures
from etl.queries import definitions as metric_definitions
from etl.queries.report import noisy_templates
from reports.anonymize import Pseudonymizer, load_salt
from reports.weekly.fields import by_field as field_breakdown
from reports.weekly.model import (
    DEFINED_COLUMNS,
    REQUIRED_MARTS,
    TREND_WEEKS,
    WORSENING,
    HeadlineMetric,
    ReportData,
    ReportError,
    ReportWeek,
    _dates,
    _num,
    _ts,
    format_instant,
)


def _period(reader: Reader) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(data_start, data_end, freshness): the view, else the last sync, else the incidents."""
    start = end = freshness = None
    sync = reader.query("report/last_sync")
    if sync is not None and not sync.empty:
        row = sync.iloc[0]
        freshness = _ts(row["finished_at"])
        start, end = _ts(row["since"]), _ts(row["until"]) or freshness
    view = reader.query("report/data_period_view")
    if view is not None and not view.empty:
        start = _ts(view.iloc[0]["data_start"]) or start
        end = _ts(view.iloc[0]["data_end"]) or end
    span = reader.query("report/data_period").iloc[0]
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


def collect(
    db_path: str | Path,
    week: str | None = None,
    config: Config | None = None,
    anonymize: bool = False,
    by_field: str | None = None,
) -> ReportData:
    """Read everything the report shows for one week (and its breakdown by the custom field
    ``by_field``, when given); ReportError when it cannot."""
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
        return _collect(reader, week, config, zone, anonymize, db_path, by_field)
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"cannot read the warehouse at {db_path}: {first_line}") from exc
    finally:
        reader.close()


def _report_week(
    reader: Reader, week_label: str | None, zone: str, db_path: str | Path
) -> tuple[ReportWeek, datetime | None, datetime, datetime | None, list[str]]:
    """The week to report, the data period and freshness, and the notes about them."""
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
    failed = sync_failures(reader)
    if freshness is not None:
        failed = failed[failed["failed_at"] > pd.Timestamp(freshness)]
    if not failed.empty:
        latest = failed.iloc[0]
        notes.append(
            f"{len(failed)} sync run(s) failed after this data was synced; the latest at "
            f"{format_instant(latest['failed_at'], zone)}: {latest['reason']}"
        )
    skipped = reader.query("report/skipped_resources")
    for row in [] if skipped is None else skipped.itertuples():
        notes.append(
            f"The last sync could not read {row.resource} (HTTP {row.http_status}, "
            f"{row.reason}): {row.consequence}."
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
    return week, data_start, data_end, freshness, notes


_ACCOUNT_COUNTS = (
    "total_incident_count",
    "total_major_incidents",
    "total_noise_incidents",
    "total_incidents_acknowledged",
    "total_incidents_auto_resolved",
)
_INTERRUPTION_COUNTS = (
    "total_interruptions",
    "total_business_hour_interruptions",
    "total_off_hour_interruptions",
    "total_sleep_hour_interruptions",
)


def _account_trend(
    reader: Reader,
    trend_weeks: list[ReportWeek],
    data_start: datetime | None,
    data_end: datetime,
) -> tuple[pd.DataFrame, list[bool]]:
    """One row per trend week: the account's metrics, interruptions, up-time and streaks."""
    first, last = trend_weeks[0], trend_weeks[-1]
    account = reader.query("report/account_weekly", first_week=first.monday, last_week=last.monday)
    account["week_start"] = _dates(account["week_start"])
    mondays = pd.DataFrame({"week_start": [w.monday for w in trend_weeks]})
    account = mondays.merge(account, on="week_start", how="left")
    for column in _ACCOUNT_COUNTS:
        account[column] = account[column].fillna(0).astype("int64")
    interruptions = reader.query(
        "report/account_interruptions_weekly", first_week=first.monday, last_week=last.monday
    )
    interruptions["week_start"] = _dates(interruptions["week_start"])
    account = account.merge(interruptions, on="week_start", how="left")
    for column in _INTERRUPTION_COUNTS:
        account[column] = account[column].fillna(0).astype("int64")
    windows = reader.query("report/account_impact_windows", end_ts=last.end)
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
    return account, covered


_HEADLINE = (
    ("total_incident_count", "Incidents", "count", "lower", ""),
    ("mean_seconds_to_first_ack", "MTTA (mean)", "duration", "lower", ""),
    ("p90_seconds_to_first_ack", "MTTA (p90)", "duration", "lower", ""),
    ("mean_seconds_to_resolve", "MTTR (mean)", "duration", "lower", ""),
    ("p90_seconds_to_resolve", "MTTR (p90)", "duration", "lower", ""),
    ("noise_ratio", "Noise ratio", "ratio", "lower", ""),
    ("total_sleep_hour_interruptions", "Sleep-hour interruptions", "count", "lower", ""),
    ("up_time_pct", "Up-time (all services)", "pct", "higher", ""),
    (
        "current_major_free_seconds",
        "Without a major incident (current)",
        "duration",
        "higher",
        "at the end of the week",
    ),
    (
        "longest_major_free_seconds",
        "Without a major incident (longest)",
        "duration",
        "higher",
        "since the data starts",
    ),
)


def _headline(account: pd.DataFrame, covered: list[bool]) -> list[HeadlineMetric]:
    metrics = []
    for key, label, kind, better, note in _HEADLINE:
        series = [_num(v) if ok else None for v, ok in zip(account[key], covered, strict=True)]
        metrics.append(
            HeadlineMetric(key, label, kind, better, series[-1], series[-2], series, note)
        )
    return metrics


def _responders(reader: Reader, week: ReportWeek, previous: ReportWeek) -> pd.DataFrame:
    """This week's responder rows with last week's interruptions, most strained first."""
    responders = reader.query(
        "report/responders", week_start=week.monday, previous_week_start=previous.monday
    )
    responders["week_start"] = _dates(responders["week_start"])
    if "team_id" in responders.columns:
        responders = responders.merge(reader.query("report/team_names"), on="team_id", how="left")
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
    return responders.sort_values(
        sort_keys,
        ascending=[k in ("health_score", "user_name") for k in sort_keys],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)


def _groups(
    reader: Reader, week: ReportWeek, previous: ReportWeek
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(teams, services) of the week compared with the previous week."""
    weeks = {"week_start": week.monday, "previous_week_start": previous.monday}
    teams = _compare_groups(
        reader.query("report/team_weekly", **weeks), "team_id", "team_name", week, previous
    )
    services = _compare_groups(
        reader.query("report/service_weekly", **weeks),
        "service_id",
        "service_name",
        week,
        previous,
    )
    return teams, services


def _collect(
    reader: Reader,
    week_label: str | None,
    config: Config,
    zone: str,
    anonymize: bool,
    db_path: str | Path,
    by_field: str | None = None,
) -> ReportData:
    week, data_start, data_end, freshness, notes = _report_week(reader, week_label, zone, db_path)
    previous = week.shift(-1)
    trend_weeks = [week.shift(-k) for k in range(TREND_WEEKS - 1, -1, -1)]
    account, covered = _account_trend(reader, trend_weeks, data_start, data_end)
    headline = _headline(account, covered)
    if headline[0].value == 0:
        notes.append(f"No incidents were created in week {week.label}.")
    teams, services = _groups(reader, week, previous)
    sleep = reader.query("report/sleep_nights", week_start=week.monday)
    if sleep is None:
        notes.append(
            "Sleep interruptions by night need the interruptions model "
            "(int_interruptions), which this warehouse lacks: weekly totals only."
        )
    stale = reader.query("report/stale_open_majors")
    templates, count_column = noisy_templates(reader, week.start, week.end)
    if templates is not None:
        templates = templates.sort_values(
            [count_column, "template"], ascending=[False, True], kind="stable"
        ).reset_index(drop=True)
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
        responders=_responders(reader, week, previous),
        sleep_nights=sleep,
        impact_windows=reader.query("report/impact_windows", start_ts=week.start, end_ts=week.end),
        impact_incidents=reader.query(
            "report/impact_incidents", start_ts=week.start, end_ts=week.end
        ),
        # The stale_open_majors mart is the one definition; a warehouse built before it has none.
        stale_majors=stale if stale is not None else pd.DataFrame(columns=_STALE_COLUMNS),
        templates=templates,
        template_count_column=count_column if templates is not None else None,
        recommendations=reader.query("report/recommendations"),
        sev=reader.query(
            "report/sev_priorities", week_start=week.monday, previous_week_start=previous.monday
        ),
        sev_incidents=reader.query("report/sev_incidents", week_start=week.monday),
        definitions=metric_definitions.definitions(DEFINED_COLUMNS),
        notes=notes,
        streaks={"current": headline[8].value, "longest": headline[9].value},
    )
    if by_field:
        data.by_field, data.by_field_label = field_breakdown(reader, by_field, week)
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


_STALE_COLUMNS = ("incident_number", "title", "service_name", "created_at", "seconds_open")


def _anonymize(data: ReportData, pseudonymizer: Pseudonymizer, reader: Reader) -> None:
    """Replace responder names and ids with pseudonyms, and scrub names from every text."""
    everyone = reader.query("report/responder_names")
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
        "sev",
        "sev_incidents",
        "by_field",
    ):
        frame = getattr(data, attribute)
        if frame is None or frame.empty:
            continue
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(pseudonymizer.scrub)
    data.anonymized = True
