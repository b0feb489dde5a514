"""Incremental models by key: recompute only the rows of the keys that a build's changes touch.

The row grain (:mod:`etl.incremental`) re-parses the raw rows that changed. The models above it
aggregate: one row per incident out of its log entries, one per notification out of a log
entry and its user. Such a model declares the key its rows are grouped by, and the inputs that
carry that key::

    -- incremental: per incident_id of stg_incidents, int_incident_log_summary

meaning: the model's rows of one ``incident_id`` are computed from the rows of the listed
inputs with that same ``incident_id`` (and from other inputs read whole). A build then finds
the keys touched since the last build, in the *deltas* of the listed inputs (the rows each
input deleted or inserted in this build: every incremental model leaves its delta in a
temporary table ``_delta_<model>``), deletes the model's rows of those keys (they become its
own delta) and runs the model's SQL with each listed input narrowed to them (a temporary view
of the same name shadows the table). Two more declarations cover inputs keyed otherwise::

    -- incremental: rows looked up in incidents by incident_id
    -- incremental: every build redoes rows where resolved_at is null, for stg_data_period

The first: the model joins ``incidents`` on its own column ``incident_id`` to look values up;
the model's rows whose ``incident_id`` is in that input's delta are recomputed, and the input is
read whole. The second: the rows matching the condition (on the model's own rows) are
recomputed at every build, because they depend on the named inputs, which are then left out of
the fingerprint (``incidents`` reads the data period for ``is_stale_open_major``, which only an
open incident can change).

Every other input (a model or raw table the SQL names) is read whole, and its content (a hash
over every column but ``fetched_at``) is part of the model's fingerprint: a renamed service
rebuilds the models that read services. A delta is only trusted when the model consumed the
input's previous version: each refresh of a model counts a version (``_incremental_versions``),
and a keyed model remembers the versions it read (``_incremental_inputs``), so a build that
skipped a model (``noise=False``) or an input rebuilt whole forces a full rebuild. An input
that is rebuilt whole (it has no declaration) gets its delta by comparing its new rows with its
previous ones, if a keyed model reads it.

The result equals a full build row for row: tests/etl/test_incremental_build.py compares every
table after several syncs. A wrong declaration is the risk: the runner checks what it can (the
listed inputs are read and carry the key, the key is never NULL, nothing reads the clock).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import duckdb

from etl import incremental

_NAMES = r"[a-z_][a-z0-9_]*(?:, *[a-z_][a-z0-9_]*)*"
KEY_HEADER = re.compile(
    rf"^-- incremental: per ([a-z_][a-z0-9_]*) of ({_NAMES})"
    r"(?:, resumed at the last ([a-z_][a-z0-9_]*) before the first changed ([a-z_][a-z0-9_]*))?"
    r"\s*$",
    re.M,
)
LOOKUP = re.compile(
    r"^-- incremental: rows looked up in ([a-z_][a-z0-9_]*) by ([a-z_][a-z0-9_]*)\s*$", re.M
)
REDO = re.compile(
    rf"^-- incremental: every build redoes rows where (.+?), for ({_NAMES})\s*$", re.M
)

VERSIONS_SCHEMA = """
create table if not exists _incremental_versions (
    model varchar primary key,
    version bigint not null           -- how many times the model was built or refreshed
);
create table if not exists _incremental_inputs (
    model varchar not null,           -- a keyed model
    input varchar not null,           -- one of its keyed or looked-up inputs
    version bigint not null,          -- the input's version it read last
    primary key (model, input)
);
"""


@dataclass(frozen=True)
class KeyedIncrement:
    """A model's declaration of the key grain (module docstring)."""

    key: str
    keyed: tuple[str, ...]
    lookups: tuple[tuple[str, str], ...] = ()
    redo: str | None = None
    redo_for: tuple[str, ...] = ()
    hashed: tuple[str, ...] = ()
    # (the model's order column, its keyed input's): the model's rows of a key form a
    # sequence that its SQL can resume at any row, given the input rows from that row on.
    resume: tuple[str, str] | None = None

    @property
    def delta_inputs(self) -> tuple[str, ...]:
        """The inputs whose deltas this model reads."""
        return self.keyed + tuple(model for model, _ in self.lookups)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


def declaration(name: str, sql: str, code: str, read: set[str]) -> KeyedIncrement | None:
    """The key-grain declaration of model ``name`` (``code``: its SQL without comments;
    ``read``: the models and raw tables it reads), checked. None when it declares none."""
    match = KEY_HEADER.search(sql)
    if match is None:
        return None
    lines = re.findall(r"^-- incremental:.*$", sql, re.M)
    odd = [line for line in lines if not any(p.match(line) for p in (KEY_HEADER, LOOKUP, REDO))]
    if odd or len(KEY_HEADER.findall(sql)) > 1 or len(REDO.findall(sql)) > 1:
        raise ValueError(f"model {name}: unreadable incremental declaration {odd or lines}")
    key, keyed = match.group(1), _names(match.group(2))
    resume = (match.group(3), match.group(4)) if match.group(3) else None
    if resume and len(keyed) > 1:
        raise ValueError(f"incremental model {name}: a resumed sequence reads one keyed input")
    lookups = tuple((m.group(1), m.group(2)) for m in LOOKUP.finditer(sql))
    redo = REDO.search(sql)
    redo_for = _names(redo.group(2)) if redo else ()
    declared = set(keyed) | {model for model, _ in lookups} | set(redo_for)
    if not declared <= read:
        raise ValueError(
            f"incremental model {name} declares inputs it does not read: {sorted(declared - read)}"
        )
    if any(table.startswith("raw_") for table in set(keyed) | {m for m, _ in lookups}):
        raise ValueError(f"incremental model {name}: a raw table has no delta; key a staging model")
    volatile = incremental.VOLATILE.search(code.lower())
    if volatile:
        raise ValueError(f"incremental model {name} calls {volatile.group(1)}: not by key")
    return KeyedIncrement(
        key=key,
        keyed=keyed,
        lookups=lookups,
        redo=redo.group(1) if redo else None,
        redo_for=redo_for,
        hashed=tuple(sorted(read - declared)),
        resume=resume,
    )


# -- versions: which previous state a delta is relative to ------------------------------------
def bump_version(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Count one more build or refresh of ``name`` (every model, every build)."""
    con.execute(VERSIONS_SCHEMA)
    con.execute(
        "insert into _incremental_versions values (?, 1)"
        " on conflict (model) do update set version = version + 1",
        [name],
    )


def _versions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> dict[str, int]:
    return dict(
        con.execute(
            "select model, version from _incremental_versions where list_contains(?, model)",
            [list(names)],
        ).fetchall()
    )


def _consumed_previous(con: duckdb.DuckDBPyConnection, name: str, inputs: tuple[str, ...]) -> bool:
    """Whether every input has a delta in this build, relative to the version ``name`` read."""
    read = dict(
        con.execute(
            "select input, version from _incremental_inputs where model = ?", [name]
        ).fetchall()
    )
    now = _versions(con, inputs)
    return all(
        has_delta(con, model) and model in read and now.get(model) == read[model] + 1
        for model in inputs
    )


def _record_inputs(con: duckdb.DuckDBPyConnection, name: str, inputs: tuple[str, ...]) -> None:
    con.execute("delete from _incremental_inputs where model = ?", [name])
    for model, version in _versions(con, inputs).items():
        con.execute("insert into _incremental_inputs values (?, ?, ?)", [name, model, version])


# -- deltas: the rows a model deleted or inserted in this build -------------------------------
delta_table = incremental.delta_table


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the model's table exists (a temporary table of that name does not count)."""
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where not temporary and table_name = ?"
            " and database_name = current_database() and schema_name = 'main'",
            [name],
        ).fetchall()
    )


def has_delta(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where temporary and table_name = ?", [delta_table(name)]
        ).fetchall()
    )


def drop_deltas(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every delta (at the start and the end of a build)."""
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where temporary"
        " and starts_with(table_name, '_delta_')"
    ).fetchall():
        con.execute(f"drop table temp.main.{table}")


def rebuild_with_delta(con: duckdb.DuckDBPyConnection, name: str, sql: str, params: dict) -> None:
    """Re-create a model without a declaration and leave its delta: the rows in only one of its
    previous and its new version. No delta when it did not exist or its columns changed."""
    catalog = _catalog(con)
    previous = f"_previous_{name}"
    exists = _exists(con, name)
    con.execute(f"drop table if exists {catalog}.main.{previous}")
    if exists:
        con.execute(f"alter table {catalog}.main.{name} rename to {previous}")
    incremental.create_table_as(con, f"{catalog}.main.{name}", sql, params)
    if not exists:
        return
    try:
        con.execute(
            f"create or replace temp table {delta_table(name)} as"  # noqa: S608 - model names
            f" (select * from {catalog}.main.{previous} except all"
            f" select * from {catalog}.main.{name})"
            f" union all (select * from {catalog}.main.{name} except all"
            f" select * from {catalog}.main.{previous})"
        )
    except duckdb.Error:  # the columns changed: no delta, its readers rebuild whole
        con.execute(f"drop table if exists temp.main.{delta_table(name)}")
    con.execute(f"drop table {catalog}.main.{previous}")


# -- the refresh ------------------------------------------------------------------------------
def content_hash(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A hash of a table's rows, in any order, over every column but ``fetched_at``."""
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where table_name = ?"
            " and database_name = current_database() and schema_name = 'main'"
            " and column_name <> 'fetched_at' order by column_index",
            [table],
        ).fetchall()
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    count, total = con.execute(
        f"select count(*), sum(hash({listed})) from {_catalog(con)}.main.{table}"  # noqa: S608
    ).fetchall()[0]
    return f"{count}:{total}"


def fingerprint(con: duckdb.DuckDBPyConnection, base: str, increment: KeyedIncrement) -> str:
    """The model's fingerprint (:func:`etl.incremental.fingerprint`) with the content of the
    inputs it reads whole."""
    parts = [base] + [f"{t}={content_hash(con, t)}" for t in increment.hashed]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def refresh(
    con: duckdb.DuckDBPyConnection,
    target: incremental.Target,
    increment: KeyedIncrement,
    *,
    full: bool,
) -> tuple[int, int | None]:
    """Bring the table ``target.name`` up to date. Returns (rows, keys recomputed), None keys
    after a full rebuild (which leaves no delta: the models reading this one rebuild whole)."""
    name, sql, params, fingerprint_ = target.name, target.sql, target.params, target.fingerprint
    con.execute(VERSIONS_SCHEMA)
    catalog = _catalog(con)
    table = f"{catalog}.main.{name}"
    touched = None
    if (
        not full
        and _exists(con, name)
        and incremental.kept_fingerprint(con, name) == fingerprint_
        and _consumed_previous(con, name, increment.delta_inputs)
    ):
        touched = _collect_touched(con, table, increment)
        rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]  # noqa: S608
        order = increment.resume[0] if increment.resume else None
        redone = con.execute(
            f"select count(*) from ({_touched_select(table, increment, order)})"  # noqa: S608
        ).fetchall()[0][0]
        # Rewriting most of the model's rows costs more than building it anew, and so does
        # filling an empty model. A touched key without rows is not counted: a model that keeps
        # few of its input's keys (custom field changes among all log entries) would otherwise
        # rebuild whole every night, and new keys cost only their own rows.
        if redone * 2 > rows or (touched and not rows):
            touched = None
    con.execute(f"drop table if exists temp.main.{delta_table(name)}")
    if touched is None:
        incremental.create_table_as(con, table, sql, params)
        _check_key(con, table, name, increment.key)
    else:
        _apply(con, table, name, sql, increment, params)
    con.execute("drop table if exists temp.main._touched")
    incremental.keep_fingerprint(con, name, fingerprint_)
    _record_inputs(con, name, increment.delta_inputs)
    return con.execute(f"select count(*) from {table}").fetchall()[0][0], touched  # noqa: S608


def _collect_touched(con: duckdb.DuckDBPyConnection, table: str, inc: KeyedIncrement) -> int:
    """Collect in ``_touched`` the keys whose rows this build recomputes, with ``resume_at``:
    where a resumed sequence starts again (NULL: every row of the key); returns how many."""
    key = inc.key
    model_order, input_order = inc.resume or ("null", "null")
    parts = [
        f"select {key}, {input_order} as changed_at from {delta_table(model)}"  # noqa: S608
        for model in inc.keyed
    ]
    parts += [
        f"select {key}, {model_order} from {table} where {column} in"  # noqa: S608
        f" (select {column} from {delta_table(model)})"
        for model, column in inc.lookups
    ]
    if inc.redo:
        parts.append(f"select {key}, {model_order} from {table} where {inc.redo}")  # noqa: S608
    union = "\nunion all\n".join(parts)
    first = (
        f"select {key}, min(changed_at) as changed_at from ({union})"  # noqa: S608
        f" where {key} is not null group by {key}"
    )
    if inc.resume is None:
        con.execute(
            f"create or replace temp table _touched as"  # noqa: S608
            f" select {key}, cast(null as timestamptz) as resume_at from ({first})"
        )
    else:
        # The last row of the key before its first change: the sequence resumes there (its
        # own row is redone: what follows it may have changed). Before it nothing changed.
        con.execute(
            f"""
            create or replace temp table _touched as
            select first.{key},
                max(model.{model_order}) filter (where model.{model_order} < first.changed_at)
                    as resume_at
            from ({first}) as first
            left join {table} as model on model.{key} = first.{key}
            group by first.{key}
            """  # noqa: S608
        )
    return con.execute("select count(*) from _touched").fetchall()[0][0]


def _touched_select(
    source: str, inc: KeyedIncrement, order: str | None = None, columns: str = "*"
) -> str:
    """``source``'s rows of the touched keys: all of them, or with ``order`` (a resumed
    sequence's order column) those from the key's resume point on."""
    key = inc.key
    if order is None:
        return f"select {columns} from {source} where {key} in (select {key} from _touched)"  # noqa: S608
    return (
        f"select src.{columns} from {source} as src"  # noqa: S608
        f" join _touched on _touched.{key} = src.{key}"
        f" where _touched.resume_at is null or src.{order} >= _touched.resume_at"
    )


def _apply(
    con: duckdb.DuckDBPyConnection,
    table: str,
    name: str,
    sql: str,
    inc: KeyedIncrement,
    params: dict[str, object],
) -> None:
    catalog, delta = _catalog(con), delta_table(name)
    model_order, input_order = inc.resume or (None, None)
    touched = _touched_select(table, inc, model_order)
    con.execute(f"create temp table {delta} as {touched}")
    if not con.execute("select count(*) from _touched").fetchall()[0][0]:
        return  # nothing touched: an empty delta
    rows = _touched_select(table, inc, model_order, columns="rowid")
    con.execute(f"delete from {table} where rowid in ({rows})")  # noqa: S608
    # Each keyed input narrowed to the touched keys (from the resume point on), under its own
    # name: the model's SQL reads the views, unchanged.
    try:
        for model in inc.keyed:
            narrowed = _touched_select(f"{catalog}.main.{model}", inc, input_order)
            con.execute(f"create temp view {model} as {narrowed}")
        con.execute(f"insert into {table} by name\n{sql}", params)
    finally:
        for model in inc.keyed:
            con.execute(f"drop view if exists temp.main.{model}")
    con.execute(f"insert into {delta} {touched}")


def _check_key(con: duckdb.DuckDBPyConnection, table: str, name: str, key: str) -> None:
    nulls = con.execute(f"select count(*) from {table} where {key} is null").fetchall()[0][0]  # noqa: S608
    if nulls:
        raise ValueError(
            f"incremental model {name} is declared per {key}, but {nulls} rows have no {key}"
        )


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    catalog = con.execute("select current_database()").fetchall()[0][0]
    return '"' + catalog.replace('"', '""') + '"'
