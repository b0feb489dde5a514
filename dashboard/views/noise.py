"""Noise and recommendations: noisiest alert types, recommendations with evidence and savings."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, fmt, labels, widgets

view = widgets.start_page("Noise and recommendations")

templates = data.alert_templates(view)
st.subheader("Noisiest alert types")
if widgets.has_rows(
    templates, "Alert types are not in this warehouse", "No alert types for these services."
):
    st.caption(
        "Counts over the whole synced period (the date range does not apply); the team and "
        "service filters do. Alert types are the summaries with their variable parts as <*>."
    )
    st.plotly_chart(
        charts.noisiest_templates(
            templates, count_column=data.TEMPLATE_COUNT_COLUMN, top=15, title=None
        )
    )
    widgets.table(templates.head(200), key="templates_table")

st.subheader("Recommendations")
recs = data.recommendations(view)
if widgets.has_rows(
    recs,
    "Recommendations are not in this warehouse",
    "No recommendations for these teams and services.",
):
    saved = data.replay_savings(recs)
    cols = st.columns(4)
    cols[0].metric("Recommendations", fmt.number(len(recs)))
    widgets.metric(cols[1], "Pages saved (replay)", fmt.number(saved["pages_saved"]), "pages_saved")
    widgets.metric(
        cols[2], "Incidents avoided", fmt.number(saved["incidents_saved"]), "incidents_before"
    )
    widgets.metric(
        cols[3],
        "Sleep interruptions avoided",
        fmt.number(saved["sleep_saved"]),
        "sleep_interruptions_before",
    )
    # One table of every recommendation, then the detail of the chosen one: a page of many
    # expanders with JSON and code blocks is slow to draw in the browser.
    widgets.table(data.recommendation_summary(recs), key="recommendations_table")
    _, chosen = widgets.choose(
        recs,
        "recommendation_id",
        "title",
        "Evidence and configuration for",
        key="recommendation_detail",
    )
    rec = recs.set_index("recommendation_id").loc[chosen]
    st.text(f"Alert type: {rec['template']}")
    st.text(
        f"Team: {rec['team_name']}    Service: {rec['service_name']}    Kind: {rec['kind']}    "
        f"Risk: {rec['risk']}"
    )
    cols = st.columns(4)
    for column, (label, before, after) in zip(cols[:3], labels.REPLAY_PAIRS, strict=True):
        column.metric(
            f"{label} after",
            fmt.number(rec[after]),
            fmt.change(rec[after], rec[before]),
            delta_color="inverse",
            help=labels.definition(before),
        )
    widgets.metric(
        cols[3],
        "Major incidents affected",
        fmt.number(rec["major_incidents_affected"]),
        "major_incidents_affected",
    )
    left, right = st.columns(2)
    with left:
        st.caption("Evidence")
        st.json(labels.parse_evidence(rec["evidence"]))
    with right:
        st.caption("Configuration to apply (copy)")
        st.code(
            rec["config_snippet"] or "", language=labels.snippet_language(rec["config_snippet"])
        )

st.subheader("Already configured")
already = data.query(
    "recommendations_already_on", team_ids=list(view.team_ids), service_ids=list(view.service_ids)
)
if widgets.has_rows(
    already,
    "This warehouse predates the already-configured check",
    "Nothing pagerlens would propose is already on for these teams and services.",
):
    st.caption(
        "Not recommended because the account already has it: the service setting, maintenance "
        "window or Event Orchestration rule that is on, and what pagerlens would have proposed."
    )
    widgets.table(already.drop(columns=["evidence"]), key="already_on_table")
