"""The one read API over the published warehouse, for ``reports`` and ``dashboard``.

Readers never import the PagerDuty client and never write. A :class:`Reader` holds one read-only
DuckDB connection and reopens it when a sync republishes the warehouse (the file's inode
changes on the atomic rename), so a long-running dashboard always shows the last complete build.

Every read query is one file, ``etl/queries/sql/<area>/<name>.sql``, run by name with typed
parameters through one call (:meth:`Reader.query`), so adding a query is adding a file::

    reader.query("dashboard/weekly_incidents", start_ts=..., end_ts=..., team_ids=["P1"])

The file declares its parameters in its header (:mod:`etl.queries.sql_files`); the call checks
them (a missing, unknown or wrongly typed one raises :class:`TypeError` naming it) and binds
them by one rule. A file that reads an optional table (noise marts, the interruptions model,
bookkeeping) says so with ``-- optional: <table>``: the query returns ``None`` when this
warehouse lacks it, so a reader can say so honestly instead of failing; one that reads a table
only to narrow its rows says ``-- if-absent: <table>`` and reads an empty stand-in instead. Queries pick and filter
columns; metrics are computed once, in the models (docs/architecture.md). The models' macros
(``etl/models/macros/*.sql``) are created as temporary macros on every cursor the reader
opens, so a warehouse built before a macro existed reads without a rebuild.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pandas as pd

from etl.queries.sql_files import STAND_INS, load_query, macros_for
from etl.warehouse import connect_readonly, read_sync_failures, table_exists

MART_TABLES = (
    "incidents",
    "service_weekly",
    "team_weekly",
    "responder_weekly",
    "impact_windows",
    "alert_templates",
    "alert_groups",
    "recommendations",
    # Custom-field values per incident (docs/metrics.md "Custom fields"): the filter dimension.
    "incident_custom_fields",
)

# The alert_templates mart's count of a template's occurrences (docs/metrics.md): what the
# report and the dashboard rank alert types by.
TEMPLATE_COUNT_COLUMN = "incident_count"


class WarehouseMissing(FileNotFoundError):
    """No published warehouse at the path: the first sync has not run."""


class Reader:
    """A read-only view of the published warehouse that follows republishing."""

    def __init__(self, db_path: str | os.PathLike):
        self.db_path = Path(db_path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int] | None = None

    def _current_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.db_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def connection(self) -> duckdb.DuckDBPyConnection:
        identity = self._current_identity()
        if identity is None:
            raise WarehouseMissing(
                f"no warehouse at {self.db_path}: run `pagerlens sync` or `pagerlens demo` first"
            )
        if self._con is None or identity != self._identity:
            if self._con is not None:
                self._con.close()
            self._con = connect_readonly(self.db_path)
            self._identity = identity
        return self._con

    @property
    def version(self) -> tuple[int, int] | None:
        """Changes whenever a new warehouse is published (use it as a cache key)."""
        return self._current_identity()

    def df(
        self, sql: str, params: list | dict | None = None, stand_in: str | None = None
    ) -> pd.DataFrame:
        """Run one read query with bound parameters and return all rows; ``stand_in`` names a
        table to create empty (temporary, on this cursor only) first (``-- if-absent:``)."""
        with self._lock:
            cursor = self.connection().cursor()
            try:
                if stand_in is not None:
                    cursor.execute(f"create temp table {stand_in} ({STAND_INS[stand_in]})")
                # Temporary macros belong to one connection (a cursor is one): the models'
                # macros the query calls, on each, so a warehouse built before a macro
                # existed still reads (about 0.5 ms a macro: only where needed).
                for statement in macros_for(sql):
                    cursor.execute(statement)
                return cursor.execute(sql, params or []).df()
            finally:
                cursor.close()

    def query(self, name: str, **params: object) -> pd.DataFrame | None:
        """Run the read query ``etl/queries/sql/<name>.sql`` with its declared parameters.

        ``None`` only for a file marked ``-- optional: <table>`` whose table is absent.
        """
        query = load_query(name)
        bound = query.bind(params)
        if query.optional and not self.has_table(query.optional):
            return None
        stand_in = None
        if query.if_absent and not self.has_table(query.if_absent):
            stand_in = query.if_absent
        return self.df(query.sql, bound, stand_in)

    def has_table(self, name: str) -> bool:
        with self._lock:
            return table_exists(self.connection(), name)

    def is_built(self) -> bool:
        """True once every mart exists (a sync or build has completed)."""
        try:
            return all(self.has_table(t) for t in MART_TABLES[:5])
        except WarehouseMissing:
            return False

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def sync_failures(reader: Reader, *, limit: int = 20) -> pd.DataFrame:
    """Failed sync runs, newest first: noted beside the warehouse, which a failed run leaves
    untouched (:func:`etl.warehouse.read_sync_failures`). Columns: run_id, started_at,
    failed_at (UTC timestamps), api_url, requests, retries, reason."""
    columns = ["run_id", "started_at", "failed_at", "api_url", "requests", "retries", "reason"]
    entries = read_sync_failures(reader.db_path)[::-1][:limit]
    frame = pd.DataFrame([{c: e.get(c) for c in columns} for e in entries], columns=columns)
    for column in ("started_at", "failed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, errors="coerce")
    return frame
