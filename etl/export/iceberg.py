"""The Iceberg export: the same tables and columns as the Parquet export, as Apache Iceberg
tables in a catalog, so Spark, Trino, Snowflake or BigQuery read them as tables.

Catalog: by default a SQLite catalog under ``--out`` (``catalog.db``, data in ``warehouse/``);
in production a REST catalog by URL (``--catalog-uri https://...``) or any pyiceberg catalog by
options (``--catalog-option type=glue``). Credentials come from pyiceberg's own configuration
(``~/.pyiceberg.yaml`` or ``PYICEBERG_CATALOG__PAGERLENS__*`` variables), never from the
command line.

What a later run adds ("new"), per kind of table:

- A mart is recomputed by every build (a late acknowledgement changes a past week's MTTA, a
  new occurrence changes a template's counts), so it has no stable set of new rows. Each new
  build replaces the table's contents in one overwrite snapshot, tagged with the build id;
  a run over the same build adds nothing. Time travel gives every earlier build.
- A raw table holds the latest state of each id, with the time it was fetched. The rows
  fetched after the last export's watermark (the table property
  ``pagerlens.fetched_at_watermark``) are the new ones. Log entries never change in
  PagerDuty, so those are appended, minus any id the table already holds (an overlapping
  window fetches some again). Other resources change (an incident is acknowledged, resolved,
  reassigned), so the new rows replace their ids: one snapshot that deletes the old rows and
  appends the new ones. When more than half the table changed (a ``sync --full``), the table
  is overwritten instead, which is cheaper than a delete by a list of ids.

Each table is committed atomically (readers see a whole snapshot); Iceberg has no commit
across tables, so during a run some tables may already show the new build and others not.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import In
from pyiceberg.table import Table

from etl.export.tables import Source, SourceTable, open_source

NAMESPACE = "pagerlens"
BUILD_PROPERTY = "pagerlens.build_id"
WATERMARK_PROPERTY = "pagerlens.fetched_at_watermark"
IMMUTABLE_RAW = frozenset({"raw_log_entries"})  # PagerDuty never edits a log entry
BATCH_ROWS = 200_000  # rows per Arrow batch when a whole raw table is streamed
# Replacing ids rewrites every data file that holds one (pyiceberg deletes copy-on-write), one
# file at a time in memory: smaller files bound that (pyiceberg sizes them in Arrow bytes; its
# default is 512 MB, which at 100k incidents put all raw incidents in one file and took a
# night's replace to 0.9 GiB of RSS).
RAW_FILE_BYTES = 128 * 1024 * 1024
_RAW_PROPERTIES = {"write.target-file-size-bytes": str(RAW_FILE_BYTES)}


@dataclass
class IcebergTableExport:
    name: str
    action: str  # created | overwritten | appended | replaced ids | unchanged
    rows_written: int
    snapshot_id: int | None


@dataclass
class IcebergExport:
    namespace: str
    build_id: str | None
    tables: list[IcebergTableExport] = field(default_factory=list)
    seconds: float = 0.0

    def log_line(self) -> str:
        changed = [t for t in self.tables if t.action != "unchanged"]
        rows = sum(t.rows_written for t in self.tables)
        return (
            f"iceberg namespace {self.namespace}: {len(changed)} of {len(self.tables)} tables"
            f" got a new snapshot, {rows} rows written, in {self.seconds:.1f} s"
        )


def open_catalog(
    out: str | os.PathLike | None, uri: str | None = None, options: dict[str, str] | None = None
) -> Catalog:
    """A SQLite catalog under ``out`` when neither ``uri`` nor ``options`` is given, else the
    catalog they describe (a REST URL, or ``type=glue`` and its options)."""
    options = dict(options or {})
    name = options.pop("name", "pagerlens")
    if uri is None and not options:
        root = Path(out).absolute()
        (root / "warehouse").mkdir(parents=True, exist_ok=True)
        return load_catalog(
            name,
            type="sql",
            uri=f"sqlite:///{root / 'catalog.db'}",
            warehouse=(root / "warehouse").as_uri(),
        )
    if uri is not None:
        options["uri"] = uri
    return load_catalog(name, **options)


def export_iceberg(
    db_path: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    raw: bool = False,
    catalog: Catalog | None = None,
    namespace: str = NAMESPACE,
) -> IcebergExport:
    """Write the public marts (and with ``raw`` the raw layer) as Iceberg tables in
    ``namespace``, adding snapshots only for what changed (see the module docstring)."""
    started = time.perf_counter()
    catalog = catalog or open_catalog(out)
    catalog.create_namespace_if_not_exists(namespace)
    source = open_source(db_path, raw=raw)
    result = IcebergExport(namespace, source.build_id)
    try:
        for table in source.tables:
            identifier = (namespace, table.name)
            if table.layer == "mart":
                result.tables.append(_export_mart(catalog, identifier, table, source))
            else:
                result.tables.append(_export_raw(catalog, identifier, table, source))
    finally:
        source.close()
    result.seconds = time.perf_counter() - started
    return result


def _snapshot_properties(source: Source) -> dict[str, str]:
    return {
        BUILD_PROPERTY: source.build_id or "",
        "pagerlens.written_at": datetime.now(UTC).isoformat(),
    }


def _export_mart(
    catalog: Catalog, identifier: tuple[str, str], table: SourceTable, source: Source
) -> IcebergTableExport:
    existing = _load(catalog, identifier)
    if (
        existing is not None
        and source.build_id
        and existing.properties.get(BUILD_PROPERTY) == source.build_id
    ):
        return IcebergTableExport(table.name, "unchanged", 0, _snapshot_id(existing))
    data = source.con.sql(table.select_sql()).to_arrow_table()
    target = existing or _create(catalog, identifier, data.schema, table.partition_column)
    with target.transaction() as tx:
        _evolve(tx, target, data.schema)
        _replace(tx, data, source, fresh=existing is None)
        tx.set_properties({BUILD_PROPERTY: source.build_id or ""})
    action = "overwritten" if existing is not None else "created"
    return IcebergTableExport(table.name, action, data.num_rows, _snapshot_id(target.refresh()))


def _export_raw(
    catalog: Catalog, identifier: tuple[str, str], table: SourceTable, source: Source
) -> IcebergTableExport:
    existing = _load(catalog, identifier)
    watermark = existing.properties.get(WATERMARK_PROPERTY) if existing is not None else None
    where, params = ("where fetched_at > ?::timestamptz", [watermark]) if watermark else ("", [])
    count, newest = source.con.execute(
        f"select count(*), max(fetched_at) from ({table.select_sql(where)})",  # noqa: S608
        params,
    ).fetchall()[0]
    if count == 0:
        if existing is None:  # an empty resource is still a table readers can find
            schema = source.con.sql(table.select_sql("limit 0")).to_arrow_table().schema
            _create(catalog, identifier, schema, None, _RAW_PROPERTIES)
            return IcebergTableExport(table.name, "created", 0, None)
        return IcebergTableExport(table.name, "unchanged", 0, _snapshot_id(existing))
    marks = {WATERMARK_PROPERTY: newest.isoformat(), BUILD_PROPERTY: source.build_id or ""}
    held = _total_records(existing)
    if existing is None or count > held / 2:
        # First export, or most of the table changed: write it whole, streamed in batches.
        rows = source.con.sql(table.select_sql()).to_arrow_reader(BATCH_ROWS)
        target = existing or _create(catalog, identifier, rows.schema, None, _RAW_PROPERTIES)
        with target.transaction() as tx:
            _evolve(tx, target, rows.schema)
            _replace(tx, rows, source, fresh=existing is None)
            tx.set_properties(marks)
        action = "created" if existing is None else "overwritten"
        written = _total_records(target.refresh())
        return IcebergTableExport(table.name, action, written, _snapshot_id(target))
    changed = source.con.sql(table.select_sql(where), params=params).to_arrow_table()
    ids = changed.column("id").to_pylist()
    already = existing.scan(row_filter=In("id", ids), selected_fields=("id",)).to_arrow()
    held_ids = already.column("id").unique()
    with existing.transaction() as tx:
        _evolve(tx, existing, changed.schema)
        if table.name in IMMUTABLE_RAW:
            changed = changed.filter(pc.invert(pc.is_in(changed.column("id"), held_ids)))
            action = "appended"
        else:
            if len(held_ids):
                tx.delete(In("id", held_ids.to_pylist()))
            action = "replaced ids"
        if changed.num_rows:
            tx.append(changed, snapshot_properties=_snapshot_properties(source))
        tx.set_properties(marks)
    return IcebergTableExport(
        table.name, action, changed.num_rows, _snapshot_id(existing.refresh())
    )


def _replace(tx, data: pa.Table | pa.RecordBatchReader, source: Source, *, fresh: bool) -> None:
    """The table's whole contents as one snapshot (an append into a table just created)."""
    if fresh:
        tx.append(data, snapshot_properties=_snapshot_properties(source))
    else:
        tx.overwrite(data, snapshot_properties=_snapshot_properties(source))


def _load(catalog: Catalog, identifier: tuple[str, str]) -> Table | None:
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        return None


def _create(
    catalog: Catalog,
    identifier: tuple[str, str],
    schema: pa.Schema,
    partition: str | None,
    properties: dict[str, str] | None = None,
) -> Table:
    table = catalog.create_table(identifier, schema=schema, properties=properties or {})
    if partition:
        with table.update_spec() as spec:
            spec.add_identity(partition)
    return table


def _evolve(tx, table: Table, schema: pa.Schema) -> None:
    """Add the columns a newer warehouse has (a new metric) before writing."""
    if set(schema.names) - {f.name for f in table.schema().fields}:
        with tx.update_schema() as update:
            update.union_by_name(schema)


def _snapshot_id(table: Table | None) -> int | None:
    snapshot = table.current_snapshot() if table is not None else None
    return snapshot.snapshot_id if snapshot is not None else None


def _total_records(table: Table | None) -> int:
    snapshot = table.current_snapshot() if table is not None else None
    if snapshot is None or snapshot.summary is None:
        return 0
    return int(snapshot.summary.get("total-records", 0))
