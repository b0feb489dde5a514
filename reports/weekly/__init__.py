"""The weekly reliability review: one ISO week of the warehouse as a PDF and one CSV per table.

``write_report`` reads the published warehouse through the read path (``etl.queries``, never
writes it) and works in four steps, one module each: :mod:`~reports.weekly.data` collects the
week's frames (:func:`collect`), :mod:`~reports.weekly.tables` turns them into stable tables
(:func:`tables`, the CSV and Parquet files), :mod:`~reports.weekly.html` formats them for the
template and :mod:`~reports.weekly.pdf` renders the PDF (charts from ``reports.charts`` exported
to SVG through one Chromium, an autoescaped Jinja2 template, WeasyPrint). The vocabulary (the
week, formatting, :class:`ReportData`) is in :mod:`~reports.weekly.model`. Every failure a user
can cause or meet (no warehouse, no marts, a week outside the data, a malformed ``--week``)
raises :class:`ReportError` with a one-line reason for the CLI to print.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from etl.config import Config
from reports.weekly.data import collect
from reports.weekly.model import (
    DEFINED_COLUMNS,
    TABLE_NAMES,
    HeadlineMetric,
    ReportData,
    ReportError,
    ReportWeek,
)
from reports.weekly.pdf import render_pdf
from reports.weekly.tables import tables

__all__ = [
    "DEFINED_COLUMNS",
    "TABLE_NAMES",
    "HeadlineMetric",
    "ReportData",
    "ReportError",
    "ReportWeek",
    "collect",
    "render_pdf",
    "tables",
    "write_report",
]


def write_report(
    db_path: str | Path,
    *,
    week: str | None = None,
    out_dir: str | Path,
    formats: Sequence[str] = ("pdf", "csv"),
    anonymize: bool = False,
    config: Config | None = None,
    by_field: str | None = None,
) -> list[Path]:
    """Write the weekly reliability review; return the paths written (PDF first).

    ``week`` is an ISO week ``YYYY-Www`` in the reporting time zone, default the last complete
    week of the data. ``formats``: any of ``pdf``, ``csv``, ``parquet`` (one file per table for
    the last two: ``pagerlens-YYYY-Www-<table>.csv``). ``anonymize`` replaces responder names
    with stable pseudonyms in every output. ``by_field`` names an incident custom field
    (``incident_custom_fields.field_name``): the report then breaks the week's incidents down by
    its values (a section and ``...-by_field.csv``). Raises :class:`ReportError` with a
    one-line reason.
    """
    wanted = [f.lower() for f in formats]
    unknown = set(wanted) - {"pdf", "csv", "parquet"}
    if unknown:
        raise ReportError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    data = collect(db_path, week=week, config=config, anonymize=anonymize, by_field=by_field)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"pagerlens-{data.week.label}"
    written: list[Path] = []
    # Tables first: they need no browser, so a missing Chromium still leaves the CSVs behind.
    if "csv" in wanted or "parquet" in wanted:
        for name, frame in tables(data).items():
            if "csv" in wanted:
                path = out / f"{stem}-{name}.csv"
                frame.to_csv(path, index=False)
                written.append(path)
            if "parquet" in wanted:
                path = out / f"{stem}-{name}.parquet"
                frame.to_parquet(path, index=False)
                written.append(path)
    if "pdf" in wanted:
        from reports.render import RenderError

        try:
            written.insert(0, render_pdf(data, out / f"{stem}.pdf"))
        except RenderError as exc:
            raise ReportError(
                f"{exc} (the CSV files were written to {out})" if written else str(exc)
            ) from exc
    return written
