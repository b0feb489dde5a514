"""The Data page's section on the last ``pagerlens reconcile``: our figures against
PagerDuty's own Analytics, the differences per named reason and the unexplained ones."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, fmt, widgets
from etl.queries import reconcile_results

HOW_TO = (
    "Run `pagerlens reconcile --since YYYY-MM-DD --until YYYY-MM-DD` with a key that has "
    "Analytics access (docs/reconcile.md); its last result shows here."
)


def reason_table(summary: dict) -> pd.DataFrame:
    """One row per named reason: how many differences it explains and what it means."""
    explained = summary.get("explained") or {}
    texts = summary.get("reasons") or {}
    rows = [
        {"reason": name, "differences": count, "meaning": texts.get(name, "")}
        for name, count in explained.items()
    ]
    rows.append(
        {
            "reason": "(unexplained)",
            "differences": summary.get("unexplained", 0),
            "meaning": "no named reason: a difference to look into",
        }
    )
    return pd.DataFrame(rows, columns=["reason", "differences", "meaning"])


def show_reconcile() -> None:
    """Draw the section (an empty state when the warehouse was never reconciled)."""
    st.subheader("Reconciliation with PagerDuty Analytics")
    found = reconcile_results.last_reconcile(data.db_path())
    if found is None:
        st.caption(HOW_TO)
        return
    summary, differences = found
    compared = ", ".join(f"{n} {what}" for what, n in (summary.get("compared") or {}).items())
    st.caption(
        f"Incidents created {fmt.md_escape(str(summary.get('since', ''))[:10])} to "
        f"{fmt.md_escape(str(summary.get('until', ''))[:10])}; compared: "
        f"{fmt.md_escape(compared) or 'nothing'}. Reasons are defined in docs/metrics.md "
        '("Reconciliation with PagerDuty Analytics").'
    )
    for endpoint, why in (summary.get("refused") or {}).items():
        st.warning(
            f"Could not compare with POST {fmt.md_escape(endpoint)}: {fmt.md_escape(why)}",
            icon=":material/block:",
        )
    cols = st.columns(3)
    cols[0].metric("Differences", fmt.number(summary.get("differences", 0)))
    cols[1].metric("Explained", fmt.number(sum((summary.get("explained") or {}).values())))
    cols[2].metric("Unexplained", fmt.number(summary.get("unexplained", 0)))
    widgets.table(reason_table(summary), key="reconcile_reasons")
    unexplained = differences[differences["reason"].isna()]
    if not unexplained.empty:
        st.error(
            f"{len(unexplained)} difference(s) have no named reason.",
            icon=":material/help:",
        )
        widgets.table(unexplained, key="reconcile_unexplained")
    with st.expander("Every difference"):
        widgets.table(differences, key="reconcile_differences")
