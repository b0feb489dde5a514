"""The report's breakdown by one custom field (``pagerlens report --by-field NAME``): the week's
incident metrics per value of the field, read from the ``custom_field_weekly`` mart (the models'
own metrics), with the field's display name. Unknown fields are a :class:`ReportError`."""

from __future__ import annotations

import pandas as pd

from etl.queries import Reader
from reports.weekly.model import ReportError, ReportWeek


def by_field(reader: Reader, field: str, week: ReportWeek) -> tuple[pd.DataFrame, str]:
    """(one row per value of ``field`` in the week or the week before, the display name)."""
    fields = reader.query("report/custom_fields")
    if fields is None or fields.empty:
        raise ReportError(
            f"--by-field {field}: this warehouse has no incident custom fields "
            "(none were set on the synced incidents, or the marts predate them: "
            "run `pagerlens build`)"
        )
    known = dict(zip(fields["field_name"], fields["display_name"], strict=True))
    if field not in known:
        raise ReportError(
            f"--by-field {field}: no such custom field; this account's: {', '.join(known)}"
        )
    frame = reader.query(
        "report/custom_field_breakdown",
        field_name=field,
        week_start=week.monday,
        previous_week_start=week.shift(-1).monday,
    )
    if frame is None:
        raise ReportError(
            f"--by-field {field}: the custom_field_weekly mart is not in this warehouse yet: "
            "run `pagerlens build`"
        )
    return frame, str(known[field] or field)
