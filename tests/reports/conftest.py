"""The report tests read the canonical warehouse (``pipeline_db``, tests/conftest.py) and the
small hand-made one with hostile text and a quiet week (``hostile_db``); helpers are in
tests/reports/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.weekly import write_report
from tests.warehouse import writable_copy


@pytest.fixture(scope="session")
def report(pipeline_db, tmp_path_factory) -> dict[str, Path]:
    """The PDF (needs Chromium for the charts: tests using it are marked browser)."""
    out = tmp_path_factory.mktemp("report")
    paths = write_report(pipeline_db, out_dir=out, formats=("pdf",))
    return {p.name: p for p in paths}


@pytest.fixture(scope="session")
def csv_report(pipeline_db, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("csv")
    paths = write_report(pipeline_db, out_dir=out, formats=("csv", "parquet"))
    return {p.name: p for p in paths}


@pytest.fixture(scope="session")
def anonymizable_db(pipeline_db, tmp_path_factory) -> Path:
    """A copy of the canonical warehouse: anonymizing keeps its salt beside the warehouse."""
    return writable_copy(pipeline_db, tmp_path_factory.mktemp("anon-db"))


@pytest.fixture(scope="session")
def anonymized(anonymizable_db, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("anon")
    paths = write_report(anonymizable_db, out_dir=out, formats=("pdf", "csv"), anonymize=True)
    return {p.name: p for p in paths}
