"""Reports: build and download the weekly PDF and CSVs for a chosen week."""

from __future__ import annotations

import streamlit as st

from dashboard import data, labels, report_download, widgets

widgets.start_page("Reports")
weeks = data.report_weeks()
if not weeks:
    st.info("No complete week of incidents yet.")
    st.stop()

week = st.selectbox(
    "Week",
    weeks,
    index=labels.default_report_week(weeks),
    format_func=labels.iso_week_label,
    key="report_week",
)
anonymize = st.checkbox(
    "Anonymize responders",
    key="report_anonymize",
    help="Replace people's names with stable pseudonyms in the report.",
)
fields = data.filter_choices().custom_fields
by_field = None
if fields:
    by_field = st.selectbox(
        "Break incidents down by",
        ["", *fields],
        format_func=lambda name: fields[name][0] if name else "(no custom field)",
        key="report_by_field",
        help="Adds a section and a CSV with the week's incidents per value of this custom field.",
    )
if st.button("Build report", key="report_build", type="primary"):
    with st.spinner("Building the report..."):
        outcome = report_download.build_report(week, anonymize=anonymize, by_field=by_field or None)
    st.session_state["report_outcome"] = outcome

outcome = st.session_state.get("report_outcome")
if outcome is not None:
    if outcome.error:
        st.error(outcome.error)
    for i, (name, payload, mime) in enumerate(outcome.files):
        st.download_button(
            f"Download {name}", payload, file_name=name, mime=mime, key=f"report_download_{i}"
        )
