"""Charts of people and impact: interruptions by bucket, sleep by night, impact timeline,
noisiest alert types."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reports.charts.base import (
    ACCOUNT_COLOR,
    BUCKET_COLORS,
    BUCKET_COLUMNS,
    BUCKET_LABELS,
    METRIC_COLORS,
    _base_layout,
    _is_empty,
    _naive_utc,
    category_color,
    empty_figure,
    plain_label,
)


def interruptions_by_bucket(
    df: pd.DataFrame,
    *,
    name_column: str = "user_name",
    title: str | None = "Interruptions by time of day",
    top: int | None = 20,
    height: int | None = None,
) -> go.Figure:
    """Stacked horizontal bars per responder (or team): business, off-hour and sleep interruptions.

    ``df`` carries ``name_column`` and the bucket columns of ``responder_weekly``
    (``total_business_hour_interruptions``, ``total_off_hour_interruptions``,
    ``total_sleep_hour_interruptions``); rows are summed per name, most interrupted on top.
    """
    if _is_empty(df, [name_column, *BUCKET_COLUMNS.values()]):
        return empty_figure("No interruptions in this period", title)
    data = df.groupby(name_column, as_index=False, dropna=False)[
        list(BUCKET_COLUMNS.values())
    ].sum()
    data["_total"] = data[list(BUCKET_COLUMNS.values())].sum(axis=1)
    data = data[data["_total"] > 0].sort_values(["_total", name_column], ascending=[False, True])
    if top is not None:
        data = data.head(top)
    if data.empty:
        return empty_figure("No interruptions in this period", title)
    labels = [plain_label(v, 32) for v in data[name_column]]
    fig = go.Figure()
    for bucket, column in BUCKET_COLUMNS.items():
        fig.add_trace(
            go.Bar(
                x=data[column],
                y=labels,
                orientation="h",
                name=BUCKET_LABELS[bucket],
                marker={"color": BUCKET_COLORS[bucket]},
                hovertemplate="%{y}: %{x} " + BUCKET_LABELS[bucket].lower() + "<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis={"title": {"text": "Interruptions"}, "rangemode": "tozero"},
    )
    return _base_layout(fig, title, height=height or max(180, 80 + 22 * len(data)))


def sleep_interruptions_by_night(
    df: pd.DataFrame,
    *,
    name_column: str = "user_name",
    title: str | None = "Sleep-hour interruptions by night (night starting on)",
    height: int | None = None,
) -> go.Figure:
    """A responder x night grid of sleep-hour interruptions (darker: more).

    ``df``: one row per responder and night with ``name_column``, ``night_of`` (DATE, the
    evening the night starts) and ``sleep_interruptions``. Nights without interruptions may be
    absent; they are drawn as empty cells.
    """
    if _is_empty(df, [name_column, "night_of", "sleep_interruptions"]):
        return empty_figure("No sleep-hour interruptions in this period", title)
    data = df.copy()
    data["night_of"] = pd.to_datetime(data["night_of"]).dt.date
    grid = data.pivot_table(
        index=name_column,
        columns="night_of",
        values="sleep_interruptions",
        aggfunc="sum",
        fill_value=0,
    )
    if grid.empty or grid.to_numpy().sum() == 0:
        return empty_figure("No sleep-hour interruptions in this period", title)
    nights = pd.date_range(min(grid.columns), max(grid.columns), freq="D").date
    grid = grid.reindex(columns=nights, fill_value=0)
    grid = grid.loc[grid.sum(axis=1).sort_values(ascending=False).index]
    z = grid.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[n.strftime("%a %d") for n in nights],
            y=[plain_label(v, 32) for v in grid.index],
            colorscale=[[0.0, "#F4F4F8"], [1.0, BUCKET_COLORS["sleep"]]],
            zmin=0,
            text=[[f"{int(v)}" if v else "" for v in row] for row in z],
            texttemplate="%{text}",
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": "Sleep<br>interruptions"}, "thickness": 10},
            hovertemplate="%{y}, night of %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis={"side": "top", "tickangle": 0})
    return _base_layout(fig, title, height=height or max(160, 90 + 24 * len(grid)))


def impact_timeline(
    df: pd.DataFrame,
    *,
    title: str | None = "Business impact windows",
    start: object = None,
    end: object = None,
    height: int | None = None,
) -> go.Figure:
    """Impact windows as bars on a time axis, one row per service plus one for the account.

    ``df``: ``scope`` ('service' | 'account'), ``label`` (service name; ignored for the account
    row), ``window_start``, ``window_end``, and optionally ``incident_count`` and
    ``incident_numbers`` (text) for the hover. ``start``/``end`` fix the visible range (the week).
    """
    if _is_empty(df, ["scope", "window_start", "window_end"]):
        return empty_figure("No major-incident impact in this period", title)
    data = df.copy()
    data["_start"] = _naive_utc(data["window_start"])
    data["_end"] = _naive_utc(data["window_end"])
    if "label" not in data.columns:
        data["label"] = None
    data["_row"] = [
        "All services" if scope == "account" else plain_label(label or "(unknown service)", 36)
        for scope, label in zip(data["scope"], data["label"], strict=True)
    ]
    rows = ["All services"] + sorted({r for r in data["_row"] if r != "All services"})
    fig = go.Figure()
    for row in rows:
        part = data[data["_row"] == row]
        if part.empty:
            continue
        color = ACCOUNT_COLOR if row == "All services" else category_color(row)
        counts = part["incident_count"] if "incident_count" in part.columns else [None] * len(part)
        numbers = (
            part["incident_numbers"] if "incident_numbers" in part.columns else [""] * len(part)
        )
        fig.add_trace(
            go.Bar(
                base=part["_start"],
                x=(part["_end"] - part["_start"]).dt.total_seconds() * 1000.0,
                y=[row] * len(part),
                orientation="h",
                name=row,
                showlegend=False,
                marker={"color": color},
                customdata=[
                    [plain_label(c), plain_label(n, 80)]
                    for c, n in zip(counts, numbers, strict=True)
                ],
                hovertemplate="%{base|%a %d %b %H:%M} - %{x}<br>incidents: %{customdata[0]} "
                "%{customdata[1]}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="overlay",
        xaxis={"type": "date", "tickformat": "%a %d %b"},
        yaxis={"categoryorder": "array", "categoryarray": rows, "autorange": "reversed"},
    )
    if start is not None and end is not None:
        fig.update_xaxes(
            range=[_naive_utc(pd.Series([start])).iloc[0], _naive_utc(pd.Series([end])).iloc[0]]
        )
    return _base_layout(fig, title, height=height or max(140, 80 + 26 * len(rows)))


def noisiest_templates(
    df: pd.DataFrame,
    *,
    count_column: str = "incident_count",
    title: str | None = "Noisiest alert types",
    top: int = 10,
    height: int | None = None,
) -> go.Figure:
    """Horizontal bars of the alert templates with the most incidents (or pages).

    ``df``: ``template`` and ``count_column``; optional ``service_name`` is shown with the
    template, and ``share_auto_resolved`` (0-1) colours the bar: the more often an alert type
    resolves itself, the likelier it is noise. Template text is escaped and shortened.
    """
    if _is_empty(df, ["template", count_column]):
        return empty_figure("No alert types in this period", title)
    data = df.copy()
    data[count_column] = pd.to_numeric(data[count_column], errors="coerce").fillna(0)
    data = data[data[count_column] > 0].sort_values(count_column, ascending=False).head(top)
    if data.empty:
        return empty_figure("No alert types in this period", title)
    services = data["service_name"] if "service_name" in data.columns else [None] * len(data)
    labels = []
    for template, service in zip(data["template"], services, strict=True):
        label = plain_label(template, 48)
        if service is not None and not pd.isna(service):
            label = f"{label} <i>({plain_label(service, 20)})</i>"
        labels.append(label)
    marker: dict[str, object] = {"color": METRIC_COLORS["noise_ratio"]}
    if "share_auto_resolved" in data.columns:
        marker = {
            "color": pd.to_numeric(data["share_auto_resolved"], errors="coerce").fillna(0) * 100,
            "colorscale": [[0.0, "#BBBBBB"], [1.0, METRIC_COLORS["noise_ratio"]]],
            "cmin": 0,
            "cmax": 100,
            "colorbar": {"title": {"text": "% auto-<br>resolved"}, "thickness": 10},
        }
    fig = go.Figure(
        go.Bar(
            x=data[count_column],
            y=labels,
            orientation="h",
            marker=marker,
            text=[f"{v:,.0f}" for v in data[count_column]],
            textposition="auto",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_layout(
        showlegend=False,
        yaxis={"autorange": "reversed"},
        xaxis={"title": {"text": count_column.replace("_", " ")}, "rangemode": "tozero"},
    )
    return _base_layout(fig, title, height=height or max(160, 70 + 26 * len(data)))
