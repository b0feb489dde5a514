"""The read queries' files: their header (parameters and types, optional table) and binding.

Each ``etl/queries/sql/<area>/<name>.sql`` starts with comment lines; two are read::

    -- params: start_ts timestamptz, end_ts timestamptz, team_ids varchar[]
    -- optional: int_interruptions

``params`` lists every ``$name`` the statement uses with its type (``-- params: none`` when
there are none); a file whose statement and header disagree fails to load. ``optional`` names a
table that may be absent from a warehouse (the query then returns ``None``). ``if-absent``
names a table the query reads only to narrow its rows (a filter dimension): on a warehouse
built before it, the reader stands in an empty temporary table with its columns
(:data:`STAND_INS`), so the query still answers.

Binding, the one rule for every query: a value must have its declared type, else
:class:`TypeError` naming the parameter; lists bind as typed ``VARCHAR[]`` values, so an empty
list is an empty list in SQL (no casts in the statements).

| type | Python value |
|---|---|
| ``timestamptz`` | timezone-aware ``datetime`` (or ``pandas.Timestamp``) |
| ``date`` | ``date`` (not a ``datetime``) |
| ``varchar`` | ``str`` |
| ``varchar[]`` | list or tuple of ``str`` |
| ``bigint`` | ``int`` |
| ``double`` | ``int`` or ``float`` |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).with_name("sql")
# The models' shared macros (etl/models/macros/*.sql, one `create or replace macro` each): the
# build keeps them in the warehouse, and a reader creates them again as temporary macros on its
# own connection, so a warehouse built before a macro existed (or with an older body) still
# reads with the one current definition. Temporary objects are allowed on a read-only
# connection and shadow the warehouse's copy.
MACROS_DIR = Path(__file__).parents[1] / "models" / "macros"
_CREATE_MACRO = re.compile(r"\bcreate\s+or\s+replace\s+macro\b", re.IGNORECASE)
_NAME = re.compile(r"^[a-z_]+/[a-z0-9_]+$")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_HEADER = re.compile(r"^--\s*(params|optional|if-absent):\s*(.*?)\s*$", re.MULTILINE)
_VARCHAR = duckdb.sqltype("VARCHAR")
# Tables a query may name in `-- if-absent:`: the columns of the empty temporary table the
# reader creates on a warehouse built before the table existed.
STAND_INS = {
    "incident_custom_fields": "incident_id varchar, field_name varchar, display_name varchar, "
    "data_type varchar, value varchar, changed_at timestamptz, changed_by varchar",
    "stg_open_incident_engagement": "incident_id varchar, assigned_to varchar, "
    "acknowledged_by varchar",
    "stg_user_teams": "user_id varchar, team_id varchar",
}


def _check_timestamptz(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


def _check_date(value: object) -> object:
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


def _check_varchar(value: object) -> object:
    return value if isinstance(value, str) else None


def _check_list(value: object) -> object:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return duckdb.ListValue(list(value), _VARCHAR)
    return None


def _check_bigint(value: object) -> object:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_double(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


TYPES = {
    "timestamptz": _check_timestamptz,
    "date": _check_date,
    "varchar": _check_varchar,
    "varchar[]": _check_list,
    "bigint": _check_bigint,
    "double": _check_double,
}


@dataclass(frozen=True)
class Query:
    """One read query: its statement, declared parameters (name -> type), optional table."""

    name: str
    sql: str
    params: dict[str, str]
    optional: str | None = None
    if_absent: str | None = None

    def bind(self, values: dict[str, object]) -> dict[str, object]:
        """The bound parameters; TypeError naming a missing, unknown or mistyped one."""
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            raise TypeError(f"{self.name}: unknown parameter(s) {', '.join(unknown)}")
        missing = sorted(set(self.params) - set(values))
        if missing:
            raise TypeError(f"{self.name}: missing parameter(s) {', '.join(missing)}")
        bound = {}
        for name, kind in self.params.items():
            value = TYPES[kind](values[name])
            if value is None:
                raise TypeError(
                    f"{self.name}: parameter {name} must be {kind}, "
                    f"got {type(values[name]).__name__} {values[name]!r}"
                )
            bound[name] = value
        return bound


def parse(name: str, text: str) -> Query:
    """Read the header of a query file; ValueError when it disagrees with the statement."""
    header = dict.fromkeys(("params", "optional", "if-absent"))
    for key, value in _HEADER.findall(text):
        header[key] = value
    if header["params"] is None:
        raise ValueError(f"{name}.sql has no '-- params:' header line")
    params: dict[str, str] = {}
    if header["params"] not in ("", "none"):
        for item in header["params"].split(","):
            param, _, kind = item.strip().partition(" ")
            if kind.strip() not in TYPES:
                raise ValueError(f"{name}.sql: parameter {param} has unknown type {kind!r}")
            params[param] = kind.strip()
    used = set(_PARAM.findall(_COMMENT.sub("", text)))
    if used != set(params):
        raise ValueError(
            f"{name}.sql: header declares {sorted(params)} but the statement uses {sorted(used)}"
        )
    if header["if-absent"] and header["if-absent"] not in STAND_INS:
        raise ValueError(f"{name}.sql: no stand-in for the table {header['if-absent']!r}")
    return Query(name, text, params, header["optional"] or None, header["if-absent"] or None)


@cache
def load_query(name: str) -> Query:
    """The query ``etl/queries/sql/<name>.sql`` (``name`` is ``area/file``)."""
    if not _NAME.match(name):
        raise ValueError(f"a query is named 'area/name', got {name!r}")
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no query {name!r} (looked for {path})")
    return parse(name, path.read_text(encoding="utf-8"))


@cache
def temp_macros() -> tuple[tuple[str, str], ...]:
    """(name, statement creating it as a ``temp`` macro) for each of the models' macros, in
    file order; the name is the file's stem."""
    statements = []
    for path in sorted(MACROS_DIR.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        if not re.search(rf"\bcreate\s+or\s+replace\s+macro\s+{path.stem}\b", text, re.I):
            raise ValueError(f"{path.name}: expected 'create or replace macro {path.stem}'")
        statements.append((path.stem, _CREATE_MACRO.sub("create or replace temp macro", text)))
    return tuple(statements)


@cache
def macros_for(sql: str) -> tuple[str, ...]:
    """The temp-macro statements a query needs: the macros it names, and those they name,
    in file order (a query that calls no macro needs none)."""
    macros = temp_macros()
    wanted: set[str] = set()
    texts = [sql]
    while texts:
        text = texts.pop()
        for name, statement in macros:
            if name not in wanted and re.search(rf"\b{re.escape(name)}\s*\(", text):
                wanted.add(name)
                texts.append(statement)
    return tuple(statement for name, statement in macros if name in wanted)


def all_queries() -> list[str]:
    """Every query's name, ``area/name``."""
    return sorted(f"{p.parent.name}/{p.stem}" for p in SQL_DIR.glob("*/*.sql"))
