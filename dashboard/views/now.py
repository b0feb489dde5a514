"""Now: what is open and who is on it, the day so far, and how fresh the data is.

Kept current by `pagerlens listen` (webhooks, docs/live.md) between nightly syncs; the page
re-reads every few seconds and shows a new warehouse as soon as it is published. The sidebar
filters do not apply here: the page is the whole account, now.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data, fmt, widgets

REFRESH_SECONDS = 5
# A published warehouse older than this is flagged: live data is seconds old, a nightly one
# up to a day.
STALE_SECONDS = 15 * 60

widgets.start_page("Now")
st.caption("The whole account, as of the last published warehouse; the filters do not apply.")


@st.fragment(run_every=REFRESH_SECONDS)
def now_panel() -> None:
    freshness = data.query("now_freshness")
    live = data.query("now_live_status")
    if freshness is not None and not freshness.empty and freshness["published_at"].notna()[0]:
        row = freshness.iloc[0]
        age = row["published_seconds_ago"]
        where = "live apply" if row["last_live_apply_at"] == row["published_at"] else "sync"
        text = (
            f"Published {fmt.duration(age)} ago by a {where}; data up to "
            f"{row['data_until']:%Y-%m-%d %H:%M} UTC."
        )
        (st.warning if age > STALE_SECONDS else st.success)(text, icon=":material/schedule:")
    if live is not None and not live.empty:
        last = live.iloc[0]
        st.caption(
            f"Last webhook event applied: {fmt.md_escape(last['last_event_type'])} "
            f"(occurred {last['last_event_occurred_at']:%Y-%m-%d %H:%M:%S} UTC, received "
            f"{last['last_event_received_at']:%H:%M:%S} UTC); "
            f"{fmt.number(last['events_applied'])} events this session."
        )
    else:
        st.caption("No webhook event has been applied: run `pagerlens listen` for live data.")

    today = data.query("now_today", time_zone=data.reporting_time_zone())
    day = today.iloc[0] if today is not None and not today.empty else None
    st.subheader("Today so far")
    columns = st.columns(4)
    count = day["total_incident_count"] if day is not None else 0
    widgets.metric(columns[0], "Incidents", fmt.number(count), "total_incident_count")
    widgets.metric(
        columns[1],
        "MTTA (mean)",
        fmt.duration(day["mean_seconds_to_first_ack"] if day is not None else None),
        "mean_seconds_to_first_ack",
    )
    widgets.metric(
        columns[2],
        "MTTR (mean)",
        fmt.duration(day["mean_seconds_to_resolve"] if day is not None else None),
        "mean_seconds_to_resolve",
    )
    widgets.metric(
        columns[3],
        "Acknowledged",
        fmt.number(day["total_incidents_acknowledged"] if day is not None else 0),
        "total_incidents_acknowledged",
    )

    st.subheader("Open incidents")
    incidents = data.query("now_open_incidents")
    if widgets.has_rows(incidents, "Open incidents", "No incident is open."):
        widgets.table(incidents, key="now_open_incidents")


now_panel()
