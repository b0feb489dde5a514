"""The report's read functions that add logic to a query: everything else is a plain
``reader.query("report/<name>", ...)`` (etl/queries/sql/report/*.sql)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from etl.queries import TEMPLATE_COUNT_COLUMN, Reader


def noisy_templates(
    reader: Reader, start_ts: datetime, end_ts: datetime
) -> tuple[pd.DataFrame | None, str]:
    """Alert types of the week and the column that counts them; (None, ...) without the marts.

    With the noise model's incident -> template mapping (``int_incident_noise``) the rows carry
    the week's own counts (``incidents_this_week`` and friends) next to the history-wide columns
    of ``alert_templates``; without it, the templates seen during the week with their
    history-wide counts only (``incident_count``).
    """
    weekly = reader.query("report/noisy_templates_week", start_ts=start_ts, end_ts=end_ts)
    if weekly is not None and reader.has_table("alert_templates"):
        return weekly, "incidents_this_week"
    history = reader.query("report/noisy_templates", start_ts=start_ts, end_ts=end_ts)
    return history, TEMPLATE_COUNT_COLUMN
