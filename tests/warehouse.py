"""The canonical test warehouse: a simulated account run through the real pipeline.

:func:`build_pipeline_warehouse` generates the simulator's account straight into the raw tables
and builds every model with ``etl.transform.build``: the marts the report, the dashboard and the
notebook read are the product's own, never copies of its SQL. The simulator is imported here
only, so a move of the package changes one line. :func:`run_models` is for the few hand-made
warehouses that still exist: it runs the real macros and models named on hand-made tables.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from etl.transform import MACROS_DIR, MODELS_DIR
from simulator.generate import generate_to_warehouse

PIPELINE_SEED = 7
PIPELINE_DAYS = 35


def build_pipeline_warehouse(
    path: Path, *, end: datetime, seed: int = PIPELINE_SEED, days: int = PIPELINE_DAYS
) -> Path:
    """Generate a simulated account into ``path`` and build its marts (published atomically)."""
    from etl.config import Config
    from etl.transform import build

    generate_to_warehouse(path, seed=seed, days=days, scale=1.0, end=end)
    build(path, Config())
    return path


def run_models(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Create the shared macros, then the tables of the real mart models ``names``, in order,
    from whatever tables ``con`` holds (a hand-made ``incidents``, for example)."""
    for path in sorted(MACROS_DIR.glob("*.sql")):
        con.execute(path.read_text())
    for name in names:
        sql = (MODELS_DIR / "marts" / f"{name}.sql").read_text()
        con.execute(f"create or replace table {name} as\n{sql}")
