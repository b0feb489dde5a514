"""Helpers of the report tests: the PDF's text, CSV rows, plain queries of the marts.

Expected figures are read from the marts with plain queries (or computed with pandas over the
incidents mart), never by running the report's own read queries."""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

# The canonical warehouse (tests/conftest.py: pipeline_db) ends at SIM_END, Monday 2026-03-02:
# its last complete ISO week, the report's default, is 2026-W09.
REPORT_WEEK = "2026-W09"
REPORT_WEEK_START = date(2026, 2, 23)
WEEK_START_TS = datetime(2026, 2, 23, tzinfo=UTC)
WEEK_END_TS = WEEK_START_TS + timedelta(days=7)
PREVIOUS_WEEK_START_TS = WEEK_START_TS - timedelta(days=7)


def pdf_pages(path: Path, layout: bool = True) -> list[str]:
    """The PDF's text per page (``-layout`` keeps columns; without it, reading order)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def tile_value(page: str, label: str) -> str:
    """The figure printed under a headline tile's label (same column, within three lines)."""
    lines = page.splitlines()
    for i, line in enumerate(lines):
        column = line.find(label)
        if column < 0:
            continue
        for below in lines[i + 1 : i + 4]:
            value = below[column:].split("  ")[0].strip()
            if value:
                return value
    raise AssertionError(f"no tile {label!r}")


def flat(text: str) -> str:
    return " ".join(text.split())


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a plain query of the warehouse (read-only)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def incidents_of_week(db: Path, start: datetime = WEEK_START_TS):
    """The incidents mart's rows created in the week starting at ``start``, as a DataFrame,
    without the incidents merged into another: the metrics leave those out (docs/metrics.md
    ``merged_into_incident_id``)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select * from incidents where created_at >= ? and created_at < ? "
            "and merged_into_incident_id is null",
            [start, start + timedelta(days=7)],
        ).df()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def fake_svgs(data) -> dict[str, str]:
    """Placeholder charts, to render the report's HTML without a browser."""
    from reports import weekly

    svgs = {key: "<svg xmlns='http://www.w3.org/2000/svg'/>" for key in weekly.pdf._charts(data)}
    return {**svgs, **weekly.pdf._sparklines(data)}
