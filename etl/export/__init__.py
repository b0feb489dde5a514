"""``pagerlens export``: the published warehouse's public tables for a lake.

Two formats, the same tables and columns (:mod:`etl.export.tables`):

- Parquet (:func:`export_parquet`): a directory per table, zstd, hive-partitioned by week where
  a table has one, with a manifest; written atomically per run (:mod:`etl.export.parquet`).
- Apache Iceberg (:func:`export_iceberg`, needs the ``lake`` extra): one table per mart and
  raw table in a catalog (SQLite locally, REST or Glue in production); each run adds snapshots
  only for what changed (:mod:`etl.export.iceberg`).

Both read the published warehouse read-only and never block or lock the nightly writer.
"""

from etl.export.parquet import ExportError, ParquetExport, export_parquet, read_manifest
from etl.export.tables import NotBuilt

__all__ = [
    "ExportError",
    "NotBuilt",
    "ParquetExport",
    "export_iceberg",
    "export_parquet",
    "read_manifest",
]


def export_iceberg(*args, **kwargs):
    """See :func:`etl.export.iceberg.export_iceberg` (imported on use: pyiceberg is optional)."""
    from etl.export.iceberg import export_iceberg as run

    return run(*args, **kwargs)
