"""Alert groups: alert types that fire together, their services and example incidents."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets

widgets.start_page("Alert groups")
groups = data.alert_groups()
if widgets.has_rows(
    groups,
    "Alert groups are not in this warehouse",
    "No alert types fire together often enough to form a group.",
):
    st.caption(
        "Alert types whose alerts arrive close together, most frequent first. The "
        "spread is the time between the first and last alert of an occurrence."
    )
    widgets.table(data.alert_groups_for_display(groups), key="groups_table")
