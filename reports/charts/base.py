"""The chart builders' shared parts: colours, labels, duration units, layout, empty figures.

The conventions every builder follows (pure functions, durations in seconds drawn in a unit
chosen from the data, data text through :func:`plain_label`, fixed colours, "No data" figures)
are the package's docstring: ``reports.charts``.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Sequence

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
# MTTA and MTTR as the tables show them (mean, p50, p90), in this order: the dashboard's
# tables lead with them, the report's SEV and custom-field tables list them.
DURATION_COLUMNS = (
    "mean_seconds_to_first_ack",
    "p50_seconds_to_first_ack",
    "p90_seconds_to_first_ack",
    "mean_seconds_to_resolve",
    "p50_seconds_to_resolve",
    "p90_seconds_to_resolve",
)
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
