"""Incremental staging models: re-parse only the raw rows that changed since the last build.

A staging model that is a function of one raw row at a time (no join, no aggregate, nothing
that reads the clock) declares it in a header line::

    -- incremental: per raw_log_entries row, keyed by log_entry_id

meaning: every row of the model comes from one row of ``raw_log_entries`` and carries that
row's ``id`` in its column ``log_entry_id``. A build then refreshes the model instead of
re-creating it: the raw rows that are new, re-fetched (another ``fetched_at``) or gone since
the last build are found by joining the raw table's ``(id, fetched_at)`` with the same pairs
remembered at that build (``_incremental_<model>``); their model rows are deleted and the
model's own SQL is run over just those raw rows. Log entries are immutable, so a nightly run
re-parses the day's entries, not the year's (at a million incidents the full parse of
``stg_log_entries`` is 16-17 s of the build, docs/benchmarks.md).

The result equals a full build row for row (tests/etl/test_incremental_build.py checks it over
several syncs) as long as a raw row's ``fetched_at`` changes whenever its payload does. The
loader guarantees that (etl/sql/load/upsert_raw.sql moves ``fetched_at`` forward on every
upsert, even under a frozen clock). Everything else that could change a model's output without
changing its raw rows forces a full rebuild of that model: its SQL, the configuration values it
binds, the shared macros, the DuckDB version, and a generated account replacing the raw layer
(its ``_sync_runs`` row), all folded into a fingerprint kept in ``_incremental_models``.
``pagerlens build --full`` rebuilds every model from scratch whatever the fingerprint says.

A refresh leaves the model's rows it deleted and inserted in a temporary table
``_delta_<model>``: the models keyed by incident above the staging layer read it to find the
incidents to recompute (:mod:`etl.incremental_keyed`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

HEADER = re.compile(
    r"^-- incremental: per (raw_[a-z_]+) row, keyed by ([a-z_][a-z0-9_]*)\s*$", re.M
)
# Anything that reads the clock or draws at random would make a row depend on when it was
# built: such a model cannot be refreshed row by row.
VOLATILE = re.compile(r"\b(now|today|current_date|current_timestamp|random|uuid|gen_random_uuid)\b")
RAW_TABLE = re.compile(r"(?<![\w.])(raw_[a-z_]+)\b")
# A model may name the compression of some of its columns (DuckDB's own choice otherwise):
#     -- compression: trigger_details zstd
COMPRESSION = re.compile(r"^-- compression: (.+)$", re.M)
_COLUMN_CODEC = re.compile(r"([a-z_][a-z0-9_]*)\s+([a-z_]+)")

STATE_SCHEMA = """
create table if not exists _incremental_models (
    model varchar primary key,
    fingerprint varchar not null,     -- what the rows were built with (module docstring)
    built_at timestamptz not null
);
"""


@dataclass(frozen=True)
class Increment:
    """A model's incremental declaration: the raw table it maps row by row, and the model's
    column that holds the raw row's id."""

    raw_table: str
    key: str


def declaration(name: str, sql: str, code: str, models: set[str]) -> Increment | None:
    """The model's ``-- incremental:`` header, checked against its SQL (``code`` is the SQL
    without comments; ``models`` all model names). None when the model has no header."""
    match = HEADER.search(sql)
    if match is None:
        if "-- incremental:" in sql:
            raise ValueError(
                f"model {name}: the incremental header must read "
                "'-- incremental: per raw_<resource> row, keyed by <column>'"
            )
        return None
    raw_table, key = match.groups()
    read = set(RAW_TABLE.findall(code))
    if read != {raw_table}:
        raise ValueError(
            f"incremental model {name} must read {raw_table} alone, reads {sorted(read)}"
        )
    named = sorted(m for m in models if m != name and re.search(rf"(?<![\w.]){m}\b", code))
    if named:
        raise ValueError(f"incremental model {name} reads other models {named}")
    volatile = VOLATILE.search(code.lower())
    if volatile:
        raise ValueError(f"incremental model {name} calls {volatile.group(1)}: not row by row")
    return Increment(raw_table, key)


def fingerprint(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object], macros_dir: Path
) -> str:
    """What a model's rows depend on besides its raw rows (see the module docstring)."""
    generated = con.execute(
        "select run_id from _sync_runs where mode = 'generate'"
        " order by started_at desc, run_id desc limit 1"
    ).fetchall()
    parts = {
        "sql": sql,
        "params": json.dumps(params, sort_keys=True, default=str),
        "macros": [p.read_text(encoding="utf-8") for p in sorted(macros_dir.glob("*.sql"))],
        "duckdb": duckdb.__version__,
        "generated": generated[0][0] if generated else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def create_table_as(
    con: duckdb.DuckDBPyConnection, table: str, sql: str, params: dict[str, object]
) -> None:
    """``create or replace table <table> as <sql>``, with the column compressions the model's
    ``-- compression: column codec, ...`` header names: a mostly-NULL column of long JSON
    texts (``stg_log_entries.trigger_details``) gets dictionary-FSST from DuckDB, which at a
    million incidents writes 351 MiB in 3.1 s where zstd writes 121 MiB in 1.3 s. The table is
    then created with its columns declared (their types read from the query) and filled by
    an insert; a later incremental insert keeps the compression. ``table`` is a model name
    (validated), not data, possibly qualified by its catalog and schema ``main``."""
    codecs = {
        column: codec
        for header in COMPRESSION.findall(sql)
        for column, codec in _COLUMN_CODEC.findall(header)
    }
    if not codecs:
        con.execute(f"create or replace table {table} as\n{sql}", params)
        return
    empty = f"create or replace table {table} as select * from (\n{sql}\n) limit 0"  # noqa: S608
    con.execute(empty, params)
    columns = con.execute(
        "select column_name, data_type from duckdb_columns()"
        " where table_name = ? and schema_name = 'main' and database_name = current_database()"
        " order by column_index",
        [table.rsplit(".", 1)[-1]],
    ).fetchall()
    unknown = set(codecs) - {name for name, _ in columns}
    if unknown:
        raise ValueError(
            f"model {table}: compression for columns it does not have {sorted(unknown)}"
        )
    definitions = ", ".join(
        f'"{name}" {kind}' + (f" using compression {codecs[name]}" if name in codecs else "")
        for name, kind in columns
    )
    con.execute(f"create or replace table {table} ({definitions})")
    con.execute(f"insert into {table} by name\n{sql}", params)


def kept_fingerprint(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The fingerprint ``name`` was last built with (``_incremental_models``), if any."""
    con.execute(STATE_SCHEMA)
    kept = con.execute(
        "select fingerprint from _incremental_models where model = ?", [name]
    ).fetchall()
    return kept[0][0] if kept else None


def keep_fingerprint(con: duckdb.DuckDBPyConnection, name: str, fingerprint_: str) -> None:
    """Record that ``name`` is now built with ``fingerprint_``."""
    con.execute(
        "insert or replace into _incremental_models values (?, ?, now())", [name, fingerprint_]
    )


def clear(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[str]:
    """Before a full rebuild: drop the tables of the models ``names`` and their state, forget
    their fingerprints, and checkpoint, so the tables built next reuse the blocks the old ones
    held (the private copy a build writes then stays the size of one build, not two, and so
    does every later copy of it). Returns the tables dropped."""
    con.execute(STATE_SCHEMA)
    wanted = set(names) | {state_table(name) for name in names}
    dropped = [
        table
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where not temporary and schema_name = 'main'"
            " and database_name = current_database() order by table_name"
        ).fetchall()
        if table in wanted
    ]
    for table in dropped:
        con.execute(f"drop table main.{table}")
    con.execute("delete from _incremental_models where list_contains(?, model)", [sorted(names)])
    con.execute("checkpoint")
    return dropped


def delta_table(name: str) -> str:
    """The temporary table where a refresh of ``name`` leaves the rows it deleted and inserted."""
    return f"_delta_{name}"


def forget(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop what ``name`` was last built with: its next refresh builds it from scratch (for a
    model re-created outside a build, :func:`etl.transform.run_model`)."""
    con.execute(STATE_SCHEMA)
    con.execute("delete from _incremental_models where model = ?", [name])


def state_table(model: str) -> str:
    return f"_incremental_{model}"


@dataclass(frozen=True)
class Target:
    """One model to refresh: its table, its SQL with the parameters bound to it, and the
    fingerprint of what its rows depend on besides their inputs (:func:`fingerprint`)."""

    name: str
    sql: str
    params: dict[str, object]
    fingerprint: str


def refresh(
    con: duckdb.DuckDBPyConnection, target: Target, increment: Increment, *, full: bool
) -> tuple[int, int | None]:
    """Bring the table ``target.name`` up to date with its raw table. Returns (rows, changed):
    the model's row count and the number of raw rows re-parsed, None after a full rebuild.
    The name, the raw table and the key come from validated file names and headers."""
    name, sql, params, fingerprint_ = target.name, target.sql, target.params, target.fingerprint
    con.execute(STATE_SCHEMA)
    state = state_table(name)
    changed = None
    if not full and _reusable(con, name, state, fingerprint_):
        changed = _find_changes(con, increment.raw_table, state)
        # Past half the rows (a `sync --full` fetched everything again) deleting and
        # re-inserting costs more than building the table anew.
        if changed * 2 > con.execute(f"select count(*) from {state}").fetchall()[0][0]:  # noqa: S608
            changed = None
    # The rows this build deletes or inserts (the key grain reads them: etl/incremental_keyed.py).
    con.execute(f"drop table if exists temp.main.{delta_table(name)}")
    if changed is None:
        create_table_as(con, name, sql, params)
        con.execute(
            f"create or replace table {state} as select id, fetched_at from {increment.raw_table}"  # noqa: S608
        )
    elif changed:
        _apply_changes(con, name, sql, increment, params, state)
    else:  # nothing changed: an empty delta
        con.execute(f"create temp table {delta_table(name)} as select * from {name} limit 0")  # noqa: S608
    con.execute("drop table if exists _changed_ids")
    keep_fingerprint(con, name, fingerprint_)
    rows = con.execute(f"select count(*) from {name}").fetchall()[0][0]  # noqa: S608
    return rows, changed


def _reusable(con: duckdb.DuckDBPyConnection, name: str, state: str, fingerprint_: str) -> bool:
    tables = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_name in (?, ?)"
            " and table_schema = 'main'",
            [name, state],
        ).fetchall()
    }
    return tables == {name, state} and kept_fingerprint(con, name) == fingerprint_


def _find_changes(con: duckdb.DuckDBPyConnection, raw: str, state: str) -> int:
    """Collect in ``_changed_ids`` the raw rows new, re-fetched or deleted since the last
    build (their ``(id, fetched_at)`` differs from the one kept); returns how many. Reads only
    the two narrow columns, never the payloads."""
    con.execute(
        f"""
        create or replace temp table _changed_ids as
        select coalesce(r.id, s.id) as id, r.fetched_at
        from {raw} as r
        full join {state} as s on s.id = r.id
        where r.fetched_at is distinct from s.fetched_at
        """  # noqa: S608
    )
    return con.execute("select count(*) from _changed_ids").fetchall()[0][0]


def _apply_changes(
    con: duckdb.DuckDBPyConnection,
    name: str,
    sql: str,
    increment: Increment,
    params: dict[str, object],
    state: str,
) -> None:
    """Delete the changed rows' model rows and state, and parse them again."""
    raw = increment.raw_table
    changed_raw = f"_changed_{raw}"
    # The changed rows' payloads. The constant bound on fetched_at lets the scan skip, by
    # their min/max, the row groups holding only older rows: new log entries are appended at
    # the end of the table, so a nightly reads the day's payloads, not the year's (with the id
    # filter alone the scan reads every row group's payloads; the two staging models took
    # 8.0 s that way on a loaded machine at a million incidents, not measured in isolation).
    since = con.execute("select min(fetched_at) from _changed_ids").fetchall()[0][0]
    con.execute(
        f"create or replace temp table {changed_raw} as select r.* from {raw} as r"  # noqa: S608
        " where r.fetched_at >= ? and r.id in (select id from _changed_ids)",
        [since],
    )
    changed_keys = f"{increment.key} in (select id from _changed_ids)"  # noqa: S608
    delta = delta_table(name)
    con.execute(f"create temp table {delta} as select * from {name} where {changed_keys}")  # noqa: S608
    con.execute(f"delete from {name} where {changed_keys}")  # noqa: S608
    if since is not None:  # else: every changed row was deleted from the raw layer
        con.execute(
            f"insert into {name} by name\n{RAW_TABLE.sub(_renamer(raw, changed_raw), sql)}",
            params,
        )
    con.execute(f"insert into {delta} select * from {name} where {changed_keys}")  # noqa: S608
    con.execute(f"delete from {state} where id in (select id from _changed_ids)")  # noqa: S608
    con.execute(f"insert into {state} select id, fetched_at from {changed_raw}")  # noqa: S608
    con.execute(f"drop table {changed_raw}")


def _renamer(raw: str, replacement: str):
    def rename(match: re.Match) -> str:
        return replacement if match.group(1) == raw else match.group(0)

    return rename
