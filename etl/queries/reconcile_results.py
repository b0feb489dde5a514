"""The last ``pagerlens reconcile`` of a warehouse, for the dashboard's Data page.

Reconcile does not rewrite the warehouse (that would mean a full copy and publish for a few
hundred rows); it leaves its last result beside it, like the failed-sync notes:
``<warehouse>.reconcile/`` with ``summary.json`` and ``differences.csv``, each replaced
atomically. :func:`last_reconcile` reads them back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

SUMMARY = "summary.json"
DIFFERENCES = "differences.csv"


def results_dir(db_path: str | os.PathLike) -> Path:
    """Where the last reconciliation of the warehouse at ``db_path`` is kept."""
    path = Path(db_path)
    return path.with_name(path.name + ".reconcile")


def last_reconcile(db_path: str | os.PathLike) -> tuple[dict[str, Any], pd.DataFrame] | None:
    """(summary, differences) of the last reconciliation, or None when there was none."""
    folder = results_dir(db_path)
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        differences = pd.read_csv(folder / DIFFERENCES, dtype=str, keep_default_na=False)
    except (OSError, ValueError):
        return None
    differences = differences.replace({"": None})
    return summary, differences
