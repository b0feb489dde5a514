"""What an export reads: the public tables of the published warehouse, as lake-friendly columns.

The warehouse is opened read-only (:func:`etl.warehouse.connect_readonly`, the way the
:class:`~etl.queries.Reader` opens it): a writer works on a copy and renames it over the
published file, so an export never blocks or locks the nightly run, and one connection reads
one consistent build from start to end even if a sync publishes meanwhile.

Two column types do not travel well and are converted, the same way for every format:
``HUGEINT`` (DuckDB's 128-bit sums of counts) becomes ``BIGINT`` (a cast that fails loudly on
overflow; Parquet would otherwise store it as a double, Iceberg as a decimal), and ``JSON``
becomes text (Parquet readers other than DuckDB see the JSON logical type as raw bytes).
The manifest records both types of a converted column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.queries import MART_TABLES
from etl.warehouse import RAW_RESOURCES, connect_readonly, table_exists

# Marts with this column are partitioned by it (one directory or partition per week).
WEEK_COLUMN = "week_start"
# The marts a warehouse must have to be exported: the noise marts may be absent from an older
# or partial warehouse (they are skipped and listed as such), these may not.
REQUIRED_MARTS = MART_TABLES[:5]
EXPORT_MEMORY_LIMIT = "1GB"  # DuckDB's buffer pool while exporting
_CONVERTED = {"HUGEINT": "BIGINT", "UHUGEINT": "BIGINT", "JSON": "VARCHAR"}


class NotBuilt(RuntimeError):
    """The warehouse has no complete build to export."""


@dataclass(frozen=True)
class Column:
    name: str
    warehouse_type: str
    export_type: str

    def select_expression(self) -> str:
        quoted = quote_identifier(self.name)
        if self.export_type == self.warehouse_type:
            return quoted
        return f"cast({quoted} as {self.export_type}) as {quoted}"

    def as_manifest(self) -> dict:
        entry = {"name": self.name, "type": self.export_type}
        if self.export_type != self.warehouse_type:
            entry["warehouse_type"] = self.warehouse_type
        return entry


@dataclass(frozen=True)
class SourceTable:
    """One table to export: its warehouse name, layer (mart | raw) and columns."""

    name: str
    layer: str
    columns: tuple[Column, ...]

    @property
    def partition_column(self) -> str | None:
        return WEEK_COLUMN if any(c.name == WEEK_COLUMN for c in self.columns) else None

    def select_sql(self, where: str = "") -> str:
        """``select`` of the exported columns (identifiers from the warehouse's own catalog,
        quoted; ``where`` is a fixed clause with bound parameters, never a value)."""
        columns = ", ".join(c.select_expression() for c in self.columns)
        return f"select {columns} from {quote_identifier(self.name)} {where}"  # noqa: S608


@dataclass(frozen=True)
class Source:
    """The published warehouse, opened read-only, and what it holds."""

    path: Path
    con: duckdb.DuckDBPyConnection
    build_id: str | None
    built_at: str | None
    tables: tuple[SourceTable, ...]
    skipped: dict[str, str]

    def close(self) -> None:
        self.con.close()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_source(db_path: str | os.PathLike, *, raw: bool = False) -> Source:
    """The warehouse's public marts (and with ``raw`` its raw tables), read-only.

    Raises :class:`NotBuilt` when a required mart is missing (no build has completed).
    """
    path = Path(db_path).resolve()
    con = connect_readonly(path)
    try:
        # Timestamps leave as UTC instants labelled UTC (Iceberg's timestamptz is UTC).
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")  # the command prints its own lines
        # An export streams table by table: a small buffer pool is enough and keeps it beside
        # the dashboard on a small machine (with the Parquet writer's row groups capped by
        # bytes: etl/export/parquet.py). Row order means nothing in a lake table.
        con.execute(f"set memory_limit = '{EXPORT_MEMORY_LIMIT}'")
        con.execute("set preserve_insertion_order = false")
        missing = [t for t in REQUIRED_MARTS if not table_exists(con, t)]
        if missing:
            raise NotBuilt(
                f"{path} has no complete build (missing {', '.join(missing)}): "
                "run `pagerlens sync` or `pagerlens build` first"
            )
        wanted = [(t, "mart") for t in MART_TABLES]
        if raw:
            wanted += [(f"raw_{r}", "raw") for r in RAW_RESOURCES]
        tables, skipped = [], {}
        for name, layer in wanted:
            if table_exists(con, name):
                tables.append(SourceTable(name, layer, _columns(con, name)))
            else:
                skipped[name] = "absent from this warehouse"
        build_id, built_at = _last_build(con)
    except BaseException:
        con.close()
        raise
    return Source(path, con, build_id, built_at, tuple(tables), skipped)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[Column, ...]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return tuple(Column(name, kind, _CONVERTED.get(kind, kind)) for name, kind in rows)


def _last_build(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    """The id and end of the build that made these marts (``_build_runs``' latest)."""
    if not table_exists(con, "_build_runs"):
        return None, None
    rows = con.execute(
        "select build_id, max(finished_at) as finished from _build_runs"
        " group by build_id order by finished desc limit 1"
    ).fetchall()
    if not rows:
        return None, None
    return rows[0][0], rows[0][1].isoformat()
