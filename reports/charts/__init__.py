"""Chart builders shared by the PDF report and the Streamlit dashboard.

Every builder is a pure function: a pandas DataFrame (already read through ``etl.queries``) in,
a plotly ``Figure`` out. No builder reads the warehouse, touches the file system or knows whether
it is drawn in a browser or exported to SVG, so the dashboard and the report show the same
picture of the same numbers.

The builders live in ``reports.charts.trends`` (weekly series, bars per group) and
``reports.charts.people`` (responders, impact, alert types), their shared parts in
``reports.charts.base``; import them from ``reports.charts``.

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

from reports.charts.base import (
    ACCOUNT_COLOR,
    BUCKET_COLORS,
    BUCKET_COLUMNS,
    BUCKET_LABELS,
    CATEGORY_PALETTE,
    DURATION_COLUMNS,
    FONT_FAMILY,
    METRIC_COLORS,
    category_color,
    duration_unit,
    empty_figure,
    format_duration,
    plain_label,
)
from reports.charts.people import (
    impact_timeline,
    interruptions_by_bucket,
    noisiest_templates,
    sleep_interruptions_by_night,
)
from reports.charts.trends import (
    bar_by_group,
    mtta_mttr_trend,
    sparkline,
    stacked_weekly,
    weekly_trend,
)

__all__ = [
    "ACCOUNT_COLOR",
    "BUCKET_COLORS",
    "BUCKET_COLUMNS",
    "BUCKET_LABELS",
    "CATEGORY_PALETTE",
    "DURATION_COLUMNS",
    "FONT_FAMILY",
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
