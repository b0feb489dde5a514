"""The HTML template's context: every figure of :class:`ReportData` formatted for the PDF."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from reports import charts
from reports.weekly.model import (
    ReportData,
    _num,
    _ts,
    format_count,
    format_instant,
    format_pct,
    format_ratio,
)

# The SEV section lists this many of the week's major-priority incidents; the rest are in the
# sev_incidents CSV.
SEV_INCIDENTS_SHOWN = 15


_DURATIONS = {"mtta": "seconds_to_first_ack", "mttr": "seconds_to_resolve"}


def _durations(row: pd.Series, *keys: str) -> dict[str, str]:
    """The template's MTTA/MTTR cells of a metrics row, by key: ``mtta_p90`` shows the row's
    ``p90_seconds_to_first_ack``, ``mttr_mean`` its ``mean_seconds_to_resolve``."""
    cells = {}
    for key in keys:
        metric, statistic = key.split("_")
        cells[key] = charts.format_duration(row.get(f"{statistic}_{_DURATIONS[metric]}"))
    return cells


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
        **_durations(row, "mtta_mean", "mtta_p90", "mttr_mean", "mttr_p90"),
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


def _responder_rows(data: ReportData) -> list[dict[str, object]]:
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

    return responders


def _window_rows(data: ReportData) -> list[dict[str, object]]:
    zone, week = data.week.zone, data.week
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

    return windows


def _stale_rows(data: ReportData) -> list[dict[str, str]]:
    zone = data.week.zone
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

    return stale


def _template_rows(data: ReportData) -> list[dict[str, str]] | None:
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

    return templates


def _recommendation_rows(data: ReportData) -> list[dict[str, str]] | None:
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

    return recommendations


def _text(value: object, empty: str = "—") -> str:
    return str(value) if value is not None and not pd.isna(value) else empty


def _sev_rows(data: ReportData) -> list[dict[str, str]] | None:
    """One row per major priority (SEV1 first), or None when the warehouse lacks the model."""
    if data.sev is None:
        return None
    rows = []
    for _, r in data.sev.iterrows():
        longest = "—"
        if pd.notna(r.get("longest_incident_number")):
            state = "open for" if bool(r.get("longest_is_open")) else "resolved in"
            longest = (
                f"#{format_count(r['longest_incident_number'])} "
                f"“{_text(r.get('longest_title'), '')}” ({_text(r.get('longest_service_name'))}, "
                f"{state} {charts.format_duration(r.get('longest_seconds'))})"
            )
        rows.append(
            {
                "priority": _text(r.get("priority_name")),
                "incidents": format_count(r.get("total_incident_count")),
                "previous": format_count(r.get("previous_total_incident_count")),
                **_durations(r, "mtta_p50", "mtta_p90", "mttr_p50", "mttr_p90"),
                "longest": longest,
                "responders": _text(r.get("top_responders")),
                "responders_more": max(int(_num(r.get("responder_people")) or 0) - 6, 0),
            }
        )
    return rows


def _sev_incident_rows(data: ReportData) -> list[dict[str, str]]:
    if data.sev_incidents is None:
        return []
    return [
        {
            "number": format_count(i.get("incident_number")),
            "priority": _text(i.get("priority_name")),
            "title": _text(i.get("title"), ""),
            "service": _text(i.get("service_name")),
            "created": format_instant(i.get("created_at"), data.week.zone),
            "mtta": charts.format_duration(i.get("seconds_to_first_ack")),
            "mttr": charts.format_duration(i.get("seconds_to_resolve"))
            if pd.isna(i.get("open_seconds"))
            else f"open for {charts.format_duration(i.get('open_seconds'))}",
            "responders": _text(i.get("responders")),
        }
        for _, i in data.sev_incidents.iterrows()
    ]


def _by_field_rows(data: ReportData) -> list[dict[str, str]] | None:
    """The breakdown by a custom field, one row per value ('(none)' shown as not set)."""
    if data.by_field is None:
        return None
    return [
        {
            "value": "(not set)"
            if r.get("field_value") == "(none)"
            else _text(r.get("field_value")),
            "incidents": format_count(r.get("total_incident_count")),
            "previous": format_count(r.get("previous_total_incident_count")),
            "majors": format_count(r.get("total_major_incidents")),
            **_durations(r, "mtta_p50", "mttr_p50", "mttr_p90"),
        }
        for _, r in data.by_field.iterrows()
    ]


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

    responders = _responder_rows(data)
    windows = _window_rows(data)
    stale = _stale_rows(data)
    templates = _template_rows(data)
    recommendations = _recommendation_rows(data)
    sev_incidents = _sev_incident_rows(data)

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
        "sev": _sev_rows(data),
        "by_field": _by_field_rows(data),
        "by_field_label": data.by_field_label,
        "sev_incidents": sev_incidents[:SEV_INCIDENTS_SHOWN],
        "sev_incidents_more": max(len(sev_incidents) - SEV_INCIDENTS_SHOWN, 0),
        "definitions": found,
        "definitions_missing": missing,
    }
