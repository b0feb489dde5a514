"""Overview: the headline figures of the last week with week-over-week change, and trends."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, fmt, labels, widgets

view = widgets.start_page("Overview")
weekly = data.weekly_overview(view)
last, previous = data.headline(weekly)

if last is None or weekly["total_incident_count"].sum() == 0:
    st.info("No incidents in this view: widen the date range or clear the filters.")
else:
    st.caption(
        f"Week starting {last['week_start']:%Y-%m-%d} compared with the week before. "
        "The urgency and priority filters do not apply to interruptions and up-time."
    )

    def _prev(column: str) -> float | None:
        return None if previous is None else previous[column]

    cards = [
        ("Incidents", "total_incident_count", fmt.number, "count", "inverse"),
        ("MTTA (mean)", "mean_seconds_to_first_ack", fmt.duration, "duration", "inverse"),
        ("MTTR (mean)", "mean_seconds_to_resolve", fmt.duration, "duration", "inverse"),
        ("Noise ratio", "noise_ratio", lambda v: fmt.percent(v, ratio=True), "ratio", "inverse"),
        ("Major incidents", "total_major_incidents", fmt.number, "count", "inverse"),
        (
            "Sleep-hour interruptions",
            "total_sleep_hour_interruptions",
            fmt.number,
            "count",
            "inverse",
        ),
        ("Interruptions", "total_interruptions", fmt.number, "count", "inverse"),
        ("Up-time (account)", "up_time_pct", fmt.percent, "pct", "normal"),
    ]
    for row in (cards[:4], cards[4:]):
        for column, (label, metric, render, kind, colour) in zip(st.columns(4), row, strict=True):
            column.metric(
                label,
                render(last[metric]),
                fmt.change(last[metric], _prev(metric), kind=kind),
                delta_color=colour,
                help=labels.definition(metric),
            )

    left, right = st.columns(2)
    left.plotly_chart(
        charts.weekly_trend(
            weekly, "total_incident_count", label="Incidents", title="Incidents per week"
        )
    )
    right.plotly_chart(charts.mtta_mttr_trend(weekly))
    left, right = st.columns(2)
    left.plotly_chart(charts.interruptions_by_bucket(weekly, title="Interruptions per week"))
    right.plotly_chart(
        charts.weekly_trend(
            weekly, "noise_ratio", label="Noise ratio", title="Noise ratio per week"
        )
    )
