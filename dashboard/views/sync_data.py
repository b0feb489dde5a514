"""Data: the last sync, its summary, rejected records and why."""

from __future__ import annotations

import streamlit as st

from dashboard import data, fmt, widgets
from dashboard.reconcile_panel import show_reconcile

widgets.start_page("Data")
runs = data.sync_runs()
failures = data.sync_failures()
if not failures.empty:
    # Failed runs leave the warehouse as it was; only the ones after the last good run matter.
    ok = runs[runs["status"] == "ok"] if runs is not None and not runs.empty else runs
    last_ok = ok["finished_at"].max() if ok is not None and not ok.empty else None
    recent = failures if last_ok is None else failures[failures["failed_at"] > last_ok]
    if not recent.empty:
        latest = recent.iloc[0]
        st.error(
            f"{len(recent)} sync run(s) failed since the last successful one; the data below "
            f"is as of that run. Latest failure {latest['failed_at']:%Y-%m-%d %H:%M} UTC: "
            f"{fmt.md_escape(latest['reason'])}",
            icon=":material/sync_problem:",
        )
    with st.expander("Failed sync runs"):
        st.dataframe(failures, hide_index=True, key="failures_table")
if runs is None or runs.empty:
    st.info("No sync has been recorded in this warehouse.")
else:
    last = runs.iloc[0]
    st.subheader("Last sync")
    cols = st.columns(4)
    cols[0].metric("Status", str(last["status"]))
    cols[1].metric(
        "Finished",
        f"{last['finished_at']:%Y-%m-%d %H:%M}"
        if last["finished_at"] is not None and str(last["finished_at"]) != "NaT"
        else "–",
    )
    cols[2].metric("Duration", fmt.duration(last["duration_seconds"]))
    cols[3].metric("Rejected records", fmt.number(last["rejects"]))
    cols = st.columns(4)
    cols[0].metric("Mode", str(last["mode"]))
    cols[1].metric("API requests", fmt.number(last["requests"]))
    cols[2].metric("Retries", fmt.number(last["retries"]))
    cols[3].metric(
        "Synced from",
        f"{last['since']:%Y-%m-%d}" if str(last["since"]) not in ("NaT", "None") else "–",
    )
    if last["message"]:
        st.text(f"Message: {last['message']}")
    records = data.records_fetched(last["records_json"])
    if not records.empty:
        st.caption("Records fetched per resource")
        st.dataframe(records, hide_index=True, key="records_table")
    with st.expander("Recent runs"):
        st.dataframe(runs, hide_index=True, key="runs_table")

skipped = data.query("skipped_resources")
if skipped is not None and not skipped.empty:
    # Plan-gated or missing endpoints (402/403/404): the run published without them.
    st.warning(
        f"The last sync could not read {len(skipped)} optional resource(s); the marts were "
        "built without them (rows kept from an earlier sync, if any, may be stale).",
        icon=":material/block:",
    )
    widgets.table(skipped, key="skipped_resources")
flags = data.query("service_setting_flags")
if flags is not None and not flags.empty:
    st.subheader("Service settings that distort the metrics")
    st.caption(
        'PagerDuty settings measured on the synced incidents (docs/metrics.md "Service settings").'
    )
    widgets.table(flags, key="setting_flags")

show_reconcile()

st.subheader("Rejected records")
summary = data.reject_summary()
if summary is None or summary.empty:
    st.success("No records were rejected.")
else:
    st.caption(
        "Records the loader could not accept, by source and reason; the payload is "
        "kept as received."
    )
    widgets.table(summary, key="rejects_summary")
    with st.expander("Latest rejected records"):
        st.dataframe(data.reject_samples(), hide_index=True, key="rejects_table")
