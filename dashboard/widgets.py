"""Shared page widgets: metric tables with definitions as help text, safely rendered.

Tables go through ``st.dataframe``, which shows cell values as text (never HTML). Durations are
shown in minutes or hours, ratios as percentages, and every column that is a documented metric
carries the docs/metrics.md paragraph as its header tooltip.
"""

from __future__ import annotations

import shlex

import pandas as pd
import streamlit as st

from dashboard import data, filters, fmt, labels
from reports.charts import DURATION_COLUMNS

_MINUTE_SUFFIXES = ("seconds_to_first_ack", "seconds_to_resolve")
_HOUR_COLUMNS = (
    "total_engaged_seconds",
    "total_seconds_on_call",
    "total_seconds_on_call_level_1",
    "total_seconds_on_call_level_2_plus",
    "duration_seconds",
    "gap_seconds",
    "open_seconds",
)
_RATIO_COLUMNS = ("noise_ratio", "share_auto_resolved", "share_acknowledged", "share_sleep_hours")


def display_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``frame`` with durations converted for reading, and its ``column_config``."""
    shown = frame.copy()
    config: dict[str, object] = {}
    for column in shown.columns:
        label = fmt.column_label(column)
        help_text = labels.definition(column)
        if column.endswith(_MINUTE_SUFFIXES):
            shown[column] = shown[column] / 60
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.1f")
        elif column in _HOUR_COLUMNS:
            shown[column] = shown[column] / 3600
            label = label if label.endswith("(h)") else f"{label} (h)"
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.1f")
        elif column in _RATIO_COLUMNS:
            shown[column] = shown[column] * 100
            config[column] = st.column_config.NumberColumn(
                f"{label} (%)", help=help_text, format="%.1f"
            )
        elif column == "up_time_pct":
            config[column] = st.column_config.NumberColumn(
                "up-time (%)", help=help_text, format="%.3f"
            )
        elif column == "health_score":
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.1f")
        elif column == "html_url":
            config[column] = st.column_config.LinkColumn("PagerDuty", display_text="open")
        elif column.endswith("_id") or column == "template_id":
            config[column] = None  # ids are for joins and URLs, not for reading
        else:
            config[column] = st.column_config.Column(label, help=help_text)
    return shown, config


# The figures of the weekly review come first (names, then the headline metrics), so they are
# on screen without scrolling sideways; other columns follow in their query order.
_FIRST_COLUMNS = (
    "team_name",
    "service_name",
    "user_name",
    "title",
    "incident_number",
    "total_incident_count",
    *DURATION_COLUMNS,
    "noise_ratio",
    "up_time_pct",
    "total_major_incidents",
)


def column_order(frame: pd.DataFrame) -> list[str]:
    """The display order: the review's headline columns first, then the rest."""
    first = [c for c in _FIRST_COLUMNS if c in frame.columns]
    return first + [c for c in frame.columns if c not in first]


def table(frame: pd.DataFrame, *, key: str | None = None, height: int | str = "auto") -> None:
    """Show a mart extract as a read-only table (text only, documented headers)."""
    shown, config = display_frame(frame)
    st.dataframe(
        shown,
        column_config=config,
        column_order=[c for c in column_order(shown) if config.get(c, True) is not None],
        hide_index=True,
        key=key,
        height=height,
    )


def empty_section(what: str, hint: str) -> None:
    """An honest empty state: what is missing and how to get it."""
    st.info(f"{what}: {hint}")


BUILT_AFTER_SYNC = "they are computed by `pagerlens build` after a sync."
REBUILD_MARTS = "rebuild the marts with `pagerlens build`."


def has_rows(
    frame: pd.DataFrame | None, missing: str, empty: str, *, hint: str = BUILT_AFTER_SYNC
) -> bool:
    """Whether a section has rows to show; if not, its empty state is drawn.

    ``frame`` is None when the warehouse lacks the table (``missing: hint`` is shown) and
    empty when the view selects nothing (``empty`` is shown).
    """
    if frame is None:
        empty_section(missing, hint)
        return False
    if frame.empty:
        st.info(empty)
        return False
    return True


def metric(column, label: str, value: str, definition: str) -> None:
    """A metric whose help text is the docs/metrics.md definition of ``definition``."""
    column.metric(label, value, help=labels.definition(definition))


def choose(
    frame: pd.DataFrame,
    id_column: str,
    name_column: str,
    label: str,
    *,
    key: str,
    multiple: bool = False,
    **options,
) -> tuple[dict[str, str], object]:
    """A select box over ``frame``'s rows showing names: the id-to-name map and the choice.

    With ``multiple`` it is a multiselect and the choice is a list of ids.
    """
    names = labels.names(frame, id_column, name_column)
    widget = st.multiselect if multiple else st.selectbox
    chosen = widget(label, list(names), format_func=names.get, key=key, **options)
    return names, chosen


def start_page(title: str) -> data.Filters:
    """Gate on the warehouse, draw the shared filters, and title the page.

    When there is nothing to show yet, the page shows how to run the first sync and stops here.
    """
    path = data.db_path()
    state = data.warehouse_state(path)
    if state is not data.WarehouseState.READY:
        _onboarding(state, path)
        st.stop()
    view = filters.sidebar_filters(data.filter_choices())
    st.sidebar.caption(
        f"Warehouse: {fmt.md_escape(path)}  \n"
        f"Dates and weeks in {fmt.md_escape(data.reporting_time_zone())}."
    )
    st.title(title)
    return view


def _onboarding(state: data.WarehouseState, path: str) -> None:
    """What to do when there is nothing to show yet: how to run the first sync."""
    st.title("pagerlens")
    if state is data.WarehouseState.MISSING:
        st.info(f"No warehouse yet at {fmt.md_escape(path)}: run the first sync to fill it.")
    else:
        st.info(
            f"The warehouse at {fmt.md_escape(path)} has no built marts yet: the first sync has not "
            "finished, or it ran with `--no-build`."
        )
    st.markdown("**Try it on the simulated PagerDuty** (no account needed):")
    quoted = shlex.quote(path)
    st.code(f"pagerlens demo --db {quoted}", language="bash")
    st.markdown("**Or sync your own account** with a read-only API token, then reload:")
    st.code(
        "export PAGERDUTY_API_TOKEN=...   # read-only REST API key\n"
        f"pagerlens sync --db {quoted} --since 2026-08-01",
        language="bash",
    )
    if state is data.WarehouseState.UNBUILT:
        st.code(f"pagerlens build --db {quoted}", language="bash")
        runs = data.sync_runs(limit=5)
        if runs is not None and not runs.empty:
            st.subheader("Recent sync runs")
            st.dataframe(runs, hide_index=True)
