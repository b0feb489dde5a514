"""Responders: load and health per person, interruptions by hour of week, who is overloaded."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, fmt, widgets

view = widgets.start_page("Responders")
people = data.responders(view)
if people.empty:
    st.info("No responder activity in these weeks.")
    st.stop()

overloaded = people[people["overloaded_weeks"] > 0]
st.subheader("Overloaded")
if overloaded.empty:
    st.success("Nobody was overloaded in these weeks.")
else:
    st.warning(
        f"{len(overloaded)} of {len(people)} responders were overloaded in at least one week."
    )
    widgets.table(
        overloaded[
            [
                "user_name",
                "overloaded_weeks",
                "overload_reason",
                "total_sleep_hour_interruptions",
                "total_off_hour_interruptions",
                "health_score",
            ]
        ],
        key="overloaded_table",
    )

st.subheader("Load and health")
st.caption(
    "Sums over the weeks of the range; health score of the latest week. The team "
    "filter keeps members of the chosen teams; service, urgency and priority do not apply here."
)
widgets.table(people, key="responders_table")

st.subheader("Interruptions by hour of week")
names, chosen = widgets.choose(
    people,
    "user_id",
    "user_name",
    "Responders",
    key="heatmap_users",
    multiple=True,
    placeholder="Everyone in the view",
)
cells = data.interruption_heatmap(view, chosen)
if widgets.has_rows(
    cells,
    "Interruption detail is not in this warehouse",
    "No interruptions in this view.",
    hint=widgets.REBUILD_MARTS,
):
    who = ", ".join(names[u] for u in chosen) if chosen else "everyone in the view"
    st.caption(f"In each responder's own time zone: {fmt.md_escape(who)}.")
    st.plotly_chart(charts.hour_of_week_heatmap(cells, title="Interruptions by local hour"))
