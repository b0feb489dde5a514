"""Chart builders shared by the PDF report and the Streamlit dashboard.

Every builder is a pure function: a pandas DataFrame (already read through ``etl.queries``) in,
a plotly ``Figure`` out. No builder reads the warehouse, touches the file system or knows whether
it is drawn in a browser or exported to SVG, so the dashboard and the report show the same
picture of the same numbers.

Conventions:
- Durations arrive in seconds (the marts' unit) and are drawn in minutes, hours or days, chosen
  by :func:`duration_unit` from the data so an axis never reads "0.002 days".
- Text that comes from the data (names, alert templates, incident titles) is passed through
  :func:`plain_label` before it reaches plotly, because plotly interprets a small HTML subset in
  labels (``<b>``, ``<br>``, ``<a href=...>``): an alert summary must be shown as text, never
  markup.
- Colours are fixed per meaning (MTTA, MTTR, the three interruption buckets) and, for teams and
  services, derived from the name so one team keeps its colour across charts and pages.
- An empty frame gives a figure that says "No data" instead of an empty axis or an exception.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

# Colours by meaning: a reader learns them once (colour-blind safe Okabe-Ito hues).
METRIC_COLORS: dict[str, str] = {
    "seconds_to_first_ack": "#0072B2",  # MTTA: blue
    "seconds_to_resolve": "#D55E00",  # MTTR: vermilion
    "incidents": "#555555",
    "noise_ratio": "#CC79A7",
    "interruptions": "#E69F00",
    "up_time_pct": "#009E73",
}
BUCKET_COLORS: dict[str, str] = {
    "business": "#56B4E9",
    "off_hour": "#E69F00",
    "sleep": "#3B2C85",
}
BUCKET_LABELS: dict[str, str] = {
    "business": "Business hours",
    "off_hour": "Off hours",
    "sleep": "Sleep hours",
}
BUCKET_COLUMNS: dict[str, str] = {
    "business": "total_business_hour_interruptions",
    "off_hour": "total_off_hour_interruptions",
    "sleep": "total_sleep_hour_interruptions",
}
# Teams and services: a qualitative palette, indexed by a hash of the name (stable across runs
# and processes, unlike Python's salted hash()).
CATEGORY_PALETTE: tuple[str, ...] = (
    "#4C72B0",
    "#DD8452",
    "#55A868",
    "#C44E52",
    "#8172B3",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
    "#CCB974",
    "#64B5CD",
)
ACCOUNT_COLOR = "#222222"
FONT_FAMILY = "DejaVu Sans, Arial, sans-serif"

_UNITS: tuple[tuple[str, float], ...] = (("min", 60.0), ("h", 3600.0), ("d", 86400.0))


def plain_label(value: object, max_length: int | None = None) -> str:
    """Data text made safe for a plotly label: shortened, then HTML-escaped.

    Plotly turns ``<b>``, ``<br>`` and ``<a href>`` inside labels into markup; escaping makes it
    render the characters literally (``&lt;script&gt;`` is drawn as ``<script>``). Shortening
    happens before escaping so an entity is never cut in half.
    """
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = " ".join(text.split())
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return html.escape(text, quote=False)


def category_color(name: object) -> str:
    """A stable colour for a team or service name (same name, same colour, everywhere)."""
    digest = hashlib.sha1(str(name).encode("utf-8")).digest()
    return CATEGORY_PALETTE[digest[0] % len(CATEGORY_PALETTE)]


def duration_unit(seconds: Iterable[float | None]) -> tuple[str, float]:
    """The display unit (label, seconds per unit) for a set of durations in seconds.

    Chosen on the largest finite value: minutes up to 3 hours, hours up to 3 days, then days.
    """
    values = [float(s) for s in seconds if s is not None and not pd.isna(s)]
    peak = max(values, default=0.0)
    if peak <= 3 * 3600:
        return _UNITS[0]
    if peak <= 3 * 86400:
        return _UNITS[1]
    return _UNITS[2]


def format_duration(seconds: float | None) -> str:
    """A duration in seconds as a short human figure: ``45 s``, ``12.5 min``, ``3.2 h``, ``4.1 d``.

    The report's tables and headline use this one formatter, and its tests compare the PDF's text
    against the warehouse through it. ``None``/NaN gives an em dash.
    """
    if seconds is None or pd.isna(seconds):
        return "—"
    seconds = float(seconds)
    if abs(seconds) < 60:
        return f"{seconds:.0f} s"
    if abs(seconds) < 3 * 3600:
        return f"{seconds / 60:.1f} min"
    if abs(seconds) < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _base_layout(fig: go.Figure, title: str | None, *, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={
            "text": plain_label(title) if title else None,
            "x": 0.0,
            "xanchor": "left",
            "font": {"size": 14},
        },
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 11, "color": "#222222"},
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def empty_figure(
    message: str = "No data for this selection", title: str | None = None, *, height: int = 200
) -> go.Figure:
    """A figure that honestly says there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(
        text=plain_label(message),
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 13, "color": "#666666"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base_layout(fig, title, height=height)


def _is_empty(df: pd.DataFrame | None, columns: Sequence[str]) -> bool:
    return df is None or df.empty or any(c not in df.columns for c in columns)


def _naive_utc(values: pd.Series) -> pd.Series:
    """Timestamps for an axis: plotly draws tz-aware values inconsistently, so use naive UTC."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None)


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


__all__ = [
    "ACCOUNT_COLOR",
    "BUCKET_COLORS",
    "BUCKET_COLUMNS",
    "BUCKET_LABELS",
    "CATEGORY_PALETTE",
    "METRIC_COLORS",
    "bar_by_group",
    "category_color",
    "duration_unit",
    "empty_figure",
    "format_duration",
    "impact_timeline",
    "interruptions_by_bucket",
    "mtta_mttr_trend",
    "noisiest_templates",
    "plain_label",
    "sleep_interruptions_by_night",
    "sparkline",
    "stacked_weekly",
    "weekly_trend",
]
