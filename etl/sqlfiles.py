"""The one loader of etl's SQL files (other than the models, which the model runner reads)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

ETL_DIR = Path(__file__).resolve().parent


@cache
def sql_text(path: str) -> str:
    """The text of the SQL file at ``path``, relative to the ``etl`` package
    (``"sql/load/upsert_raw.sql"``, ``"noise/sql/alert_templates.sql"``)."""
    return (ETL_DIR / path).read_text(encoding="utf-8")
