"""Business impact: impact windows, up-time per service, stretch without a major incident."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, fmt, labels, widgets

view = widgets.start_page("Business impact")

stale = data.stale_open_majors()
if not stale.empty:
    st.warning(
        f"{len(stale)} major incident(s) are still open: they count as impact until "
        "the end of the synced data. Resolve them in PagerDuty or check they are real."
    )
    widgets.table(stale, key="stale_table")

streaks = data.major_free_streaks()
cols = st.columns(3)
if streaks is None:
    cols[0].metric("Current stretch without a major incident", "–")
else:
    widgets.metric(
        cols[0],
        "Current stretch without a major incident",
        fmt.duration(streaks["current_seconds"]),
        "current_major_free_streak",
    )
    widgets.metric(
        cols[1],
        "Longest stretch in the data",
        fmt.duration(streaks["longest_seconds"]),
        "longest_major_free_streak",
    )
    st.caption(labels.streak_caption(streaks))

windows = data.impact_windows(view)
if windows is None:
    widgets.empty_section("Impact windows are not in this warehouse", widgets.REBUILD_MARTS)
elif windows.empty:
    cols[2].metric("Impact windows in range", "0")
    st.success("No major-incident impact in this date range.")
else:
    account = windows[windows["scope"] == "account"]
    widgets.metric(
        cols[2],
        "Account impact in range",
        fmt.duration(account["duration_seconds"].sum()),
        "impact_window",
    )
    start_ts, end_ts = view.instants(data.reporting_time_zone())
    shown = data.timeline_windows(windows)
    st.plotly_chart(
        charts.impact_timeline(
            shown, title="Impact windows (major incidents)", start=start_ts, end=end_ts
        )
    )
    if len(shown) < len(windows):
        st.caption(
            f"The chart shows the account-wide windows and the {len(shown) - len(account)} "
            f"longest of {len(windows) - len(account)} service windows; the table below has "
            "them all."
        )
    with st.expander("Impact windows"):
        widgets.table(windows, key="windows_table")

st.subheader("Up-time per service")
services = data.service_metrics(view)
if services.empty:
    st.info("No incidents in this view.")
else:
    widgets.table(
        services[
            [
                "service_name",
                "team_name",
                "up_time_pct",
                "total_major_incidents",
                "total_incident_count",
            ]
        ].sort_values("up_time_pct"),
        key="uptime_table",
    )
