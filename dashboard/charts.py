"""Dashboard chart builders: pure functions, DataFrame in, plotly Figure out.

The charts the PDF report also draws (MTTA/MTTR trend, weekly series, impact timeline, noisiest
alert types) are the report's own builders from ``reports/charts.py``, re-exported here so both
show the same picture of the same numbers. The ones defined here are dashboard-only: weekly
interruptions by bucket, the hour-of-week heatmap and the per-group bars of the drill-down.
Plotly renders a subset of HTML in labels and hover text, so every label taken from PagerDuty
data goes through ``plain_label`` (escaped).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reports.charts import (  # noqa: F401 - re-exported for the pages
    BUCKET_COLORS,
    BUCKET_LABELS,
    impact_timeline,
    mtta_mttr_trend,
    noisiest_templates,
    plain_label,
    weekly_trend,
)

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
BUCKET_COLUMNS = {
    "total_business_hour_interruptions": "business",
    "total_off_hour_interruptions": "off_hour",
    "total_sleep_hour_interruptions": "sleep",
}
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 320}


def interruptions_by_bucket(weekly: pd.DataFrame, *, title: str) -> go.Figure:
    """Stacked weekly interruptions: business, off-hours and sleep hours."""
    fig = go.Figure()
    for column, bucket in BUCKET_COLUMNS.items():
        if column in weekly:
            fig.add_trace(
                go.Bar(
                    x=weekly["week_start"],
                    y=weekly[column],
                    name=BUCKET_LABELS[bucket],
                    marker_color=BUCKET_COLORS[bucket],
                )
            )
    fig.update_layout(
        barmode="stack",
        title=title,
        xaxis_title="Week starting",
        yaxis_title="Interruptions",
        **_LAYOUT,
    )
    return fig


def hour_of_week_heatmap(cells: pd.DataFrame, *, title: str) -> go.Figure:
    """7 x 24 heatmap of ``interruptions`` by ``iso_dow`` (1 = Monday) and local ``hour``.

    Hours without interruptions are zeros (drawn), so a quiet night reads as quiet.
    """
    grid = pd.DataFrame(0, index=range(1, 8), columns=range(24), dtype="int64")
    for row in cells.itertuples():
        grid.loc[int(row.iso_dow), int(row.hour)] = int(row.interruptions)
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"{h:02d}:00" for h in range(24)],
            y=WEEKDAYS,
            colorscale="Reds",
            colorbar={"title": {"text": "Interruptions"}},
            hovertemplate="%{y} %{x}: %{z} interruptions<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="Local hour", **_LAYOUT)
    fig.update_yaxes(autorange="reversed")
    return fig


def metric_by_group(
    frame: pd.DataFrame,
    *,
    name_column: str,
    columns: dict[str, str],
    title: str,
    scale: float = 1.0,
    x_title: str = "",
) -> go.Figure:
    """Grouped horizontal bars, one group per row of ``frame`` (e.g. MTTA p50/p90 per team)."""
    names = [plain_label(n, 40) for n in frame[name_column]]
    fig = go.Figure()
    for column, legend in columns.items():
        fig.add_trace(go.Bar(y=names, x=frame[column] * scale, name=legend, orientation="h"))
    fig.update_layout(
        barmode="group",
        title=title,
        xaxis_title=x_title,
        **{**_LAYOUT, "height": max(260, 60 + 28 * len(names) * len(columns))},
    )
    fig.update_yaxes(autorange="reversed")
    return fig
