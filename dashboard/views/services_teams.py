"""Services and teams: MTTA/MTTR, incidents, noise and up-time; team -> services -> incidents."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, fmt, widgets

view = widgets.start_page("Services and teams")
teams = data.team_metrics(view)
if teams.empty:
    st.info("No incidents in this view: widen the date range or clear the filters.")
    st.stop()

st.subheader("Teams")
widgets.table(teams, key="teams_table")
st.plotly_chart(
    charts.metric_by_group(
        teams.fillna({"team_name": "(no team)"}),
        name_column="team_name",
        columns={
            "p50_seconds_to_first_ack": "MTTA p50",
            "p90_seconds_to_first_ack": "MTTA p90",
            "p50_seconds_to_resolve": "MTTR p50",
            "p90_seconds_to_resolve": "MTTR p90",
        },
        title="MTTA and MTTR by team (minutes)",
        scale=1 / 60,
        x_title="Minutes",
    )
)

team_names, team_id = widgets.choose(
    teams, "team_id", "team_name", "Drill down into a team", key="drill_team"
)
if team_id is None:
    st.info("These incidents belong to no team: pick services with the Service filter.")
    st.stop()
st.subheader(f"Services of {fmt.md_escape(team_names[team_id])}")
services = data.service_metrics(view, team_id=team_id)
widgets.table(services, key="services_table")

service_names, service_id = widgets.choose(
    services, "service_id", "service_name", "Drill down into a service", key="drill_service"
)
if service_id is not None:
    st.subheader(f"Incidents of {fmt.md_escape(service_names[service_id])}")
    incidents = data.incident_list(view, team_id=team_id, service_id=service_id)
    st.caption(
        f"The newest {len(incidents)} incidents; open one in PagerDuty from the last column."
    )
    widgets.table(incidents, key="incidents_table")
