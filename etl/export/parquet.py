"""The Parquet export: one directory per table, zstd, hive-partitioned by week, a manifest.

Layout of ``pagerlens export --out DIR``::

    DIR -> DIR.runs/<run_id>              a symlink, swapped atomically at the end of a run
    DIR.runs/<run_id>/manifest.json       schema, row counts, source build, written at
    DIR.runs/<run_id>/incidents/week_start=2026-01-05/part-0.parquet
    DIR.runs/<run_id>/alert_templates/part-0.parquet

A run writes into ``DIR.runs/.<run_id>.partial``, checks every table's row count against the
files' footers, writes the manifest last, renames the directory to ``<run_id>`` and then
replaces the ``DIR`` symlink (``os.replace``: atomic). A reader of ``DIR`` sees the previous
run or this one, never part of one; a run killed at any point leaves ``DIR`` as it was (the
next run removes the partial directory). The previous run is kept, so a reader that resolved
``DIR`` just before a swap can finish; older runs are deleted.

The week column stays inside the files as well as in the directory names, so every file is
self-describing: DuckDB and polars read the hive layout (and prune by week), and pyarrow's
``dataset(path)`` reads the column with its date type from the files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from etl.export.tables import Source, SourceTable, open_source
from etl.warehouse import exclusive_lock, fsync

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
KEEP_RUNS = 2  # this run and the one before it
# Files of a table are split at about this size, so no reader needs one huge file in memory.
FILE_SIZE_BYTES = 256 * 1024 * 1024
# A row group is buffered per thread before it is written: raw payloads of 1.5 KB in DuckDB's
# default 122,880-row groups took the raw log entries' export past a 1 GB buffer pool (at 1M
# incidents); capped by bytes, the export fits in it (1.0 GiB peak, measured).
ROW_GROUP_BYTES = 32 * 1024 * 1024


class ExportError(RuntimeError):
    """The export cannot run (the output path is taken, or another export is writing it)."""


@dataclass
class TableExport:
    name: str
    layer: str
    rows: int
    files: int
    bytes: int
    partitioned_by: list[str]
    columns: list[dict]


@dataclass
class ParquetExport:
    """What one run wrote: ``out`` (the symlink) points at ``run_dir``."""

    out: Path
    run_dir: Path
    run_id: str
    manifest: dict
    tables: list[TableExport] = field(default_factory=list)
    seconds: float = 0.0

    def log_line(self) -> str:
        rows = sum(t.rows for t in self.tables)
        size = sum(t.bytes for t in self.tables) / 2**20
        return (
            f"exported {len(self.tables)} tables, {rows} rows, {size:.1f} MiB to {self.out}"
            f" (run {self.run_id}) in {self.seconds:.1f} s"
        )


def runs_dir(out: Path) -> Path:
    """Where the runs of an export live, beside ``out``."""
    return out.with_name(out.name + ".runs")


def export_parquet(
    db_path: str | os.PathLike, out: str | os.PathLike, *, raw: bool = False
) -> ParquetExport:
    """Export the public marts (and with ``raw`` the raw layer) of the published warehouse as
    Parquet under ``out``, atomically (see the module docstring)."""
    started = time.perf_counter()
    out = Path(out).absolute()
    _check_out(out)
    runs = runs_dir(out)
    runs.mkdir(parents=True, exist_ok=True)
    with _export_lock(runs):
        for partial in runs.glob(".*.partial"):
            shutil.rmtree(partial)  # left by a killed run
        source = open_source(db_path, raw=raw)
        try:
            run_id = _run_id(runs, source.build_id)
            partial = runs / f".{run_id}.partial"
            partial.mkdir()
            tables = [_write_table(source, table, partial) for table in source.tables]
        finally:
            source.close()
        manifest = _manifest(source, run_id, tables)
        _write_json(partial / MANIFEST, manifest)
        final = runs / run_id
        os.rename(partial, final)
        _swap_link(out, final)
        _prune(runs, keep=final)
    result = ParquetExport(out, final, run_id, manifest, tables)
    result.seconds = time.perf_counter() - started
    return result


def read_manifest(out: str | os.PathLike) -> dict:
    """The manifest of the export ``out`` currently points at."""
    return json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))


def _check_out(out: Path) -> None:
    """``out`` must be a previous run's link, nothing, or an empty directory (replaced)."""
    if out.is_symlink() and out.resolve().parent == runs_dir(out).resolve():
        return
    if not out.is_symlink():
        if not out.exists():
            return
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # an empty directory made for us: the symlink takes its place
            return
    raise ExportError(
        f"{out} exists and is not a pagerlens export (a symlink to {runs_dir(out).name}/<run>):"
        " choose another --out or remove it"
    )


def _export_lock(runs: Path) -> AbstractContextManager[None]:
    return exclusive_lock(runs / ".lock", ExportError(f"another export is writing {runs}"))


def _run_id(runs: Path, build_id: str | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{build_id or 'unbuilt'}"
    run_id, n = base, 1
    while (runs / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _write_table(source: Source, table: SourceTable, run_dir: Path) -> TableExport:
    """``COPY`` one table into ``run_dir/<name>/`` and check the rows that reached the files."""
    target = run_dir / table.name
    options = [
        "format parquet",
        "compression zstd",
        "filename_pattern 'part-{i}'",
        f"row_group_size_bytes {ROW_GROUP_BYTES}",
    ]
    if table.partition_column:
        options += [
            f"partition_by ({table.partition_column})",
            "write_partition_columns true",
        ]
    else:
        options.append(f"file_size_bytes {FILE_SIZE_BYTES}")
    # COPY takes its target as a literal, not a bound parameter: the path is ours, quoted.
    copy = f"copy ({table.select_sql()}) to {_literal(str(target))} ({', '.join(options)})"
    written = source.con.execute(copy).fetchall()[0][0]
    if written == 0 and table.partition_column:
        # No week, no partition directory: one empty file still carries the schema, so a
        # reader's glob finds the table and its columns.
        target.mkdir(exist_ok=True)
        empty = f"copy ({table.select_sql()} limit 0) to {_literal(str(target / 'part-0.parquet'))} (format parquet, compression zstd)"
        source.con.execute(empty).fetchall()
    files = sorted(target.rglob("*.parquet"))
    in_files = 0
    if files:
        in_files = source.con.execute(
            "select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)",
            [[str(f) for f in files]],
        ).fetchall()[0][0]
    if in_files != written:
        raise ExportError(f"{table.name}: {written} rows written but {in_files} in the files")
    return TableExport(
        name=table.name,
        layer=table.layer,
        rows=int(written),
        files=len(files),
        bytes=sum(f.stat().st_size for f in files),
        partitioned_by=[table.partition_column] if table.partition_column else [],
        columns=[c.as_manifest() for c in table.columns],
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _manifest(source: Source, run_id: str, tables: list[TableExport]) -> dict:
    return {
        "pagerlens_export": MANIFEST_VERSION,
        "format": "parquet",
        "compression": "zstd",
        "run_id": run_id,
        "written_at": datetime.now(UTC).isoformat(),
        "source": {
            "warehouse": str(source.path),
            "build_id": source.build_id,
            "built_at": source.built_at,
        },
        "tables": {
            t.name: {
                "layer": t.layer,
                "path": t.name,
                "rows": t.rows,
                "files": t.files,
                "bytes": t.bytes,
                "partitioned_by": t.partitioned_by,
                "columns": t.columns,
            }
            for t in tables
        },
        "skipped": source.skipped,
    }


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _swap_link(out: Path, target: Path) -> None:
    """Point ``out`` at ``target`` in one step: a new link renamed over the old one."""
    _fsync_tree(target)
    link = out.with_name(f".{out.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    # Relative, so the export can be moved or mounted elsewhere as a whole.
    link.symlink_to(os.path.relpath(target, out.parent))
    os.replace(link, out)
    fsync(out.parent)


def _prune(runs: Path, keep: Path) -> None:
    finished = sorted(
        (p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    for old in finished[:-KEEP_RUNS]:
        if old != keep:
            shutil.rmtree(old)


def _fsync_tree(root: Path) -> None:
    for directory, _, names in os.walk(root):
        for name in names:
            fsync(Path(directory) / name)
        fsync(Path(directory))
