"""The PDF: charts (``reports.charts``) exported to SVG through one browser, sparklines, the
Jinja2 template (context from :mod:`reports.weekly.html`) and WeasyPrint."""

from __future__ import annotations

from pathlib import Path

from reports import charts
from reports.weekly.html import _context
from reports.weekly.model import ReportData


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
