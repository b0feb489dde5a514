"""The warehouse file: raw-layer schema, atomic publish, read-only access.

DuckDB locks a database file against other processes while one holds it open for writing, so
pagerlens never writes the published file in place. A writer (sync, build, simulate generate)
copies the published file to ``<db>.building`` (a reflink clone where the filesystem shares
blocks between files: XFS, btrfs; a full copy elsewhere, ext4 included), works there,
checkpoints, and publishes it with an atomic ``os.replace``. Readers open the published path
read-only and always see the last complete warehouse; a writer killed at any moment leaves the
published file untouched, and the next writer discards the stale work file and starts again
from the published state.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb

# One raw table per API resource, keyed by the resource id, with the full JSON payload.
RAW_RESOURCES = (
    "incidents",
    "log_entries",
    "alerts",
    "services",
    "teams",
    "users",
    "escalation_policies",
    "schedules",
    "oncalls",
    "priorities",
    "maintenance_windows",
    # Keyed by service id: the GET /event_orchestrations/services/{id} answer.
    "service_orchestrations",
    # Keyed by service id: the GET /service_dependencies/technical_services/{id} answer.
    "service_dependencies",
)

# The payload is stored with zstd: API objects are long, repetitive JSON texts (a log entry
# 1.5 KB on average). Loaded as a sync loads them (upserts of 1,000 rows), DuckDB's own choice
# is dictionary + FSST: 400k log entries of the 1M-incident year took 23.7 s and 541 MiB,
# against 14.3 s and 155 MiB with zstd; parsing them back costs about the same (2M entries:
# 1.52 against 1.60 s). docs/benchmarks.md, "Raw payloads with zstd". Tables created before
# this keep their compression.
RAW_SCHEMA = """
create table if not exists raw_{name} (
    id varchar primary key,
    payload json using compression zstd not null,
    fetched_at timestamptz not null
);
"""

META_SCHEMA = """
create table if not exists _rejects (
    source varchar not null,          -- resource or endpoint the record came from
    record_key varchar,               -- its id when it has one
    reason varchar not null,
    payload varchar,                  -- the record as received (text: it may not be valid JSON)
    run_id varchar,
    rejected_at timestamptz not null
);
create table if not exists _watermarks (
    resource varchar primary key,
    value timestamptz not null,
    updated_at timestamptz not null
);
create table if not exists _sync_runs (
    run_id varchar primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,          -- ok | failed
    api_url varchar,
    since timestamptz,
    until timestamptz,
    mode varchar,                     -- full | incremental | generate
    requests bigint,
    retries bigint,
    rejects bigint,
    records_json json,                -- records fetched per resource
    duration_seconds double,
    message varchar
);
-- The optional resources a successful run could not read (etl.extract.OPTIONAL_RESOURCES):
-- the endpoint's status and PagerDuty's own error message (never a header or the token).
create table if not exists _sync_skips (
    run_id varchar not null,
    resource varchar not null,
    endpoint varchar not null,
    http_status integer not null,     -- 402 plan | 403 key scope | 404 feature absent
    message varchar,
    primary key (run_id, resource)
);
"""


class WarehouseBusy(RuntimeError):
    """Another pagerlens process is writing this warehouse."""


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and bookkeeping tables if they do not exist (idempotent)."""
    for name in RAW_RESOURCES:
        con.execute(RAW_SCHEMA.format(name=name))
    con.execute(META_SCHEMA)


def work_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".building")


# Failed syncs are noted beside the warehouse, not in it: a failed run leaves the published
# file byte for byte as it was (tests/etl/test_faults.py), yet the dashboard should say that
# last night's sync did not complete, and why.
SYNC_FAILURES_KEPT = 100


def sync_failures_path(db_path: str | os.PathLike) -> Path:
    path = Path(db_path)
    return path.with_name(path.name + ".sync-failures.jsonl")


def note_sync_failure(db_path: str | os.PathLike, entry: dict) -> None:
    """Append one failed run (JSON-serialisable ``entry``) to the failure log, keeping the
    last ``SYNC_FAILURES_KEPT``; written to a temporary file and renamed, under the writer
    lock, so a reader never sees half a line."""
    path = sync_failures_path(db_path)
    with _writer_lock(Path(db_path)):
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        lines = [*lines, json.dumps(entry, sort_keys=True, default=str)][-SYNC_FAILURES_KEPT:]
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def read_sync_failures(db_path: str | os.PathLike) -> list[dict]:
    """The noted failed runs, oldest first (unreadable lines are skipped)."""
    path = sync_failures_path(db_path)
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


@contextmanager
def exclusive_lock(lock_path: Path, busy: Exception, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold ``lock_path`` for the block. If another writer holds it, poll (every 0.2 s) for up
    to ``wait_seconds``, then raise ``busy``: by default a second writer fails fast instead of
    queueing behind a long run; the nightly sync waits out a live apply (``--wait``)."""
    deadline = time.monotonic() + max(0.0, wait_seconds)
    with open(lock_path, "w") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise busy from exc
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _writer_lock(db_path: Path, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
    lock_path = db_path.with_name(db_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    busy = WarehouseBusy(f"another pagerlens run is writing {db_path}")
    return exclusive_lock(lock_path, busy, wait_seconds)


@contextmanager
def building(
    db_path: str | os.PathLike, *, wait_seconds: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a private copy of the warehouse, published on success.

    Another writer holding the warehouse raises :class:`WarehouseBusy`, at once or after
    ``wait_seconds`` of waiting for it to finish. On normal exit the copy is checkpointed and atomically renamed over ``db_path``. On an
    exception the copy is deleted and the published warehouse is left exactly as it was.
    """
    db_path = Path(db_path)
    with _writer_lock(db_path, wait_seconds):
        work = work_path(db_path)
        for stale in (work, work.with_name(work.name + ".wal")):
            stale.unlink(missing_ok=True)
        if db_path.exists():
            copy_file(db_path, work)
        con = duckdb.connect(str(work))
        try:
            # DuckDB's own progress bar is for terminals; in cron logs it is noise.
            if not sys.stderr.isatty():
                con.execute("set enable_progress_bar = false")
            ensure_raw_schema(con)
            yield con
            con.execute("checkpoint")
            con.close()
        except BaseException:
            con.close()
            work.unlink(missing_ok=True)
            work.with_name(work.name + ".wal").unlink(missing_ok=True)
            raise
        fsync(work)
        os.replace(work, db_path)
        fsync(db_path.parent)


# Linux's FICLONE ioctl (_IOW(0x94, 9, int)): the destination shares the source's blocks.
_FICLONE = 0x40049409


def copy_file(source: Path, destination: Path) -> str:
    """Copy ``source`` to ``destination``; ``"clone"`` when the filesystem made it a reflink
    (XFS with reflink, btrfs, bcachefs: instant, and blocks are shared until one side writes
    them), ``"copy"`` when the bytes were copied (ext4, tmpfs, other systems).

    A clone is what makes a writer's private copy cheap at a million incidents: the 4.4 GB
    warehouse is cloned in milliseconds instead of copied in 3-5 s, and the published file
    and the new one share every block the build did not rewrite (docs/scaling.md)."""
    if hasattr(fcntl, "ioctl") and sys.platform.startswith("linux"):
        with open(source, "rb") as src, open(destination, "wb") as dst:
            try:
                fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
                return "clone"
            except OSError:
                pass  # not supported here (ext4, another filesystem): copy the bytes below
    shutil.copyfile(source, destination)
    return "copy"


def copy_method(directory: Path) -> str:
    """How :func:`copy_file` copies a file in ``directory``: ``"clone"`` or ``"copy"``, found
    by copying a small probe file there (benchmarks and tests report and check it)."""
    probe = Path(directory) / f".copy-probe-{os.getpid()}"
    probe.write_bytes(b"x" * 65536)
    try:
        return copy_file(probe, probe.with_suffix(".copy"))
    finally:
        probe.unlink()
        probe.with_suffix(".copy").unlink(missing_ok=True)


def fsync(path: Path) -> None:
    """Flush a file, or a directory (a rename is durable only once its directory is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect_readonly(db_path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse (never blocks or is blocked by a writer)."""
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(
            f"no warehouse at {path}: run `pagerlens sync` (or `pagerlens demo`) first"
        )
    return duckdb.connect(str(path), read_only=True)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]
    ).fetchall()
    return rows[0][0] > 0
