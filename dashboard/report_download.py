"""The report download: the weekly report built through the reports package's public entry
point (``reports.write_report``), never its modules, cached per published warehouse."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import data, labels


@dataclass(frozen=True)
class ReportOutcome:
    """Files of a built report as (name, bytes, mime type), or why there are none."""

    files: tuple[tuple[str, bytes, str], ...]
    error: str | None = None


_MIME = {".pdf": "application/pdf", ".csv": "text/csv", ".md": "text/markdown"}


def build_report(
    week_start: date, *, anonymize: bool = False, by_field: str | None = None
) -> ReportOutcome:
    """Write the weekly report for ``week_start`` (broken down by the custom field
    ``by_field`` when given) into a temporary folder and read it back.

    Built files are cached per published warehouse; a failure is shown, never cached.
    """
    path = data.db_path()
    try:
        return ReportOutcome(
            _build_report(
                path, data.version(path), labels.iso_week(week_start), anonymize, by_field
            )
        )
    except Exception as exc:  # noqa: BLE001 - shown to the user, the page must not crash
        return ReportOutcome((), f"The report could not be built: {exc}")


@st.cache_data(ttl=data.CACHE_TTL_SECONDS, show_spinner=False, max_entries=16)
def _build_report(
    path: str, version_key: Any, week: str, anonymize: bool, by_field: str | None = None
) -> tuple[tuple[str, bytes, str], ...]:
    # version_key is part of the cache key only (a republished warehouse builds anew).
    from reports import write_report

    with tempfile.TemporaryDirectory(prefix="pagerlens-report-") as out:
        written = write_report(
            path, week=week, out_dir=Path(out), anonymize=anonymize, by_field=by_field
        )
        return tuple(
            (
                Path(p).name,
                Path(p).read_bytes(),
                _MIME.get(Path(p).suffix, "application/octet-stream"),
            )
            for p in sorted(written, key=lambda p: (Path(p).suffix != ".pdf", Path(p).name))
        )
