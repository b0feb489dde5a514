"""Weekly charts: MTTA/MTTR trends, one metric per week, sparklines, bars per group, stacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from reports.charts.base import (
    METRIC_COLORS,
    _base_layout,
    _is_empty,
    category_color,
    duration_unit,
    empty_figure,
    plain_label,
)


def mtta_mttr_trend(
    df: pd.DataFrame, *, title: str | None = "MTTA and MTTR, weekly", height: int = 320
) -> go.Figure:
    """Weekly MTTA and MTTR, mean (solid) and p90 (dotted), one point per week.

    ``df``: one row per week with ``week_start`` and any of ``mean_seconds_to_first_ack``,
    ``p90_seconds_to_first_ack``, ``mean_seconds_to_resolve``, ``p90_seconds_to_resolve``
    (seconds; a ``team_weekly``/``service_weekly`` slice or the account headline series).
    MTTA and MTTR sit on separate y axes because resolve times are often 10-100x ack times.
    """
    series = {
        "mean_seconds_to_first_ack": ("MTTA mean", "seconds_to_first_ack", "solid", "y"),
        "p90_seconds_to_first_ack": ("MTTA p90", "seconds_to_first_ack", "dot", "y"),
        "mean_seconds_to_resolve": ("MTTR mean", "seconds_to_resolve", "solid", "y2"),
        "p90_seconds_to_resolve": ("MTTR p90", "seconds_to_resolve", "dot", "y2"),
    }
    present = [c for c in series if df is not None and c in df.columns]
    if _is_empty(df, ["week_start"]) or not present:
        return empty_figure("No incidents in these weeks", title)
    data = df.sort_values("week_start")
    weeks = pd.to_datetime(data["week_start"])
    ack_cols = [c for c in present if c.endswith("first_ack")]
    res_cols = [c for c in present if c.endswith("resolve")]
    ack_label, ack_div = duration_unit(pd.concat([data[c] for c in ack_cols]) if ack_cols else [])
    res_label, res_div = duration_unit(pd.concat([data[c] for c in res_cols]) if res_cols else [])
    fig = go.Figure()
    for column in present:
        name, metric, dash, axis = series[column]
        divisor, unit = (ack_div, ack_label) if axis == "y" else (res_div, res_label)
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=pd.to_numeric(data[column], errors="coerce") / divisor,
                name=name,
                mode="lines+markers",
                yaxis=axis,
                line={"color": METRIC_COLORS[metric], "dash": dash, "width": 2},
                marker={"size": 5},
                hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:.1f}} {unit}<extra>{name}</extra>",
            )
        )
    fig.update_layout(
        yaxis={
            "title": {"text": f"MTTA ({ack_label})"},
            "rangemode": "tozero",
            "title_font": {"color": METRIC_COLORS["seconds_to_first_ack"]},
        },
        yaxis2={
            "title": {"text": f"MTTR ({res_label})"},
            "rangemode": "tozero",
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "title_font": {"color": METRIC_COLORS["seconds_to_resolve"]},
        },
        xaxis={"tickformat": "%b %d", "title": {"text": "Week starting"}},
    )
    return _base_layout(fig, title, height=height)


def weekly_trend(
    df: pd.DataFrame,
    column: str,
    *,
    label: str | None = None,
    title: str | None = None,
    color: str | None = None,
    duration: bool = False,
    height: int = 260,
) -> go.Figure:
    """One weekly series (``week_start`` against ``column``) as a line with markers.

    Set ``duration=True`` for a column in seconds (drawn in a readable unit).
    """
    if _is_empty(df, ["week_start", column]):
        return empty_figure("No data in these weeks", title)
    data = df.sort_values("week_start")
    values = pd.to_numeric(data[column], errors="coerce")
    unit = ""
    if duration:
        unit, divisor = duration_unit(values)
        values = values / divisor
    name = label or column
    fig = go.Figure(
        go.Scatter(
            x=pd.to_datetime(data["week_start"]),
            y=values,
            name=name,
            mode="lines+markers",
            line={"color": color or METRIC_COLORS.get(column, "#444444"), "width": 2},
            hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:.2f}} {unit}<extra></extra>",
        )
    )
    fig.update_layout(
        showlegend=False,
        yaxis={"title": {"text": f"{name} ({unit})" if unit else name}, "rangemode": "tozero"},
        xaxis={"tickformat": "%b %d"},
    )
    return _base_layout(fig, title, height=height)


def sparkline(
    values: Sequence[float | None],
    *,
    color: str = "#444444",
    highlight_last: bool = True,
    width: int = 160,
    height: int = 40,
) -> go.Figure:
    """A tiny axis-free trend line (headline tiles): the last point, this week, is marked."""
    series = pd.to_numeric(pd.Series(list(values), dtype="float64"), errors="coerce")
    fig = go.Figure()
    if series.notna().any():
        x = list(range(len(series)))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=series,
                mode="lines",
                line={"color": color, "width": 1.5},
                connectgaps=False,
                hoverinfo="skip",
            )
        )
        if highlight_last and pd.notna(series.iloc[-1]):
            fig.add_trace(
                go.Scatter(
                    x=[x[-1]],
                    y=[series.iloc[-1]],
                    mode="markers",
                    marker={"color": color, "size": 5},
                    hoverinfo="skip",
                )
            )
    fig.update_layout(
        showlegend=False,
        width=width,
        height=height,
        template="plotly_white",
        margin={"l": 2, "r": 2, "t": 2, "b": 2},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def bar_by_group(
    df: pd.DataFrame,
    *,
    group_column: str,
    value_column: str,
    title: str | None = None,
    value_label: str | None = None,
    duration: bool = False,
    percent: bool = False,
    top: int | None = 15,
    height: int | None = None,
) -> go.Figure:
    """Horizontal bars of one metric per team or service, largest at the top.

    ``group_column`` is a name column (``team_name``, ``service_name``); each bar takes the
    group's stable colour. ``duration=True`` for seconds, ``percent=True`` for a 0-1 ratio drawn
    as %. ``top`` keeps the largest groups.
    """
    if _is_empty(df, [group_column, value_column]):
        return empty_figure("No data for this week", title)
    data = df[[group_column, value_column]].copy()
    data[value_column] = pd.to_numeric(data[value_column], errors="coerce")
    data = data.dropna(subset=[value_column]).sort_values(value_column, ascending=False)
    if top is not None:
        data = data.head(top)
    if data.empty:
        return empty_figure("No data for this week", title)
    values = data[value_column]
    unit = ""
    if duration:
        unit, divisor = duration_unit(values)
        values = values / divisor
    elif percent:
        unit, values = "%", values * 100
    labels = [plain_label(v, 40) for v in data[group_column]]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": [category_color(v) for v in data[group_column]]},
            text=[f"{v:.1f}" if (duration or percent) else f"{v:,.0f}" for v in values],
            textposition="auto",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.2f}" + (f" {unit}" if unit else "") + "<extra></extra>",
        )
    )
    axis_label = value_label or value_column
    fig.update_layout(
        showlegend=False,
        xaxis={
            "title": {"text": f"{axis_label} ({unit})" if unit else axis_label},
            "rangemode": "tozero",
        },
        yaxis={"autorange": "reversed"},
    )
    return _base_layout(fig, title, height=height or max(160, 60 + 24 * len(data)))


def stacked_weekly(
    df: pd.DataFrame,
    *,
    group_column: str,
    value_column: str,
    title: str | None = None,
    value_label: str | None = None,
    groups: Mapping[str, str] | None = None,
    height: int = 300,
) -> go.Figure:
    """Weekly stacked bars of ``value_column`` split by ``group_column`` (teams, services).

    ``groups`` optionally maps a group value to its display name; colours are stable per name.
    """
    if _is_empty(df, ["week_start", group_column, value_column]):
        return empty_figure("No data in these weeks", title)
    data = df.copy()
    data[value_column] = pd.to_numeric(data[value_column], errors="coerce").fillna(0)
    fig = go.Figure()
    for group, part in data.groupby(group_column, sort=True, dropna=False):
        name = (groups or {}).get(group, group)
        part = part.sort_values("week_start")
        fig.add_trace(
            go.Bar(
                x=pd.to_datetime(part["week_start"]),
                y=part[value_column],
                name=plain_label(name, 30),
                marker={"color": category_color(name)},
                hovertemplate="%{x|%Y-%m-%d}: %{y}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        xaxis={"tickformat": "%b %d"},
        yaxis={"title": {"text": value_label or value_column}},
    )
    return _base_layout(fig, title, height=height)
