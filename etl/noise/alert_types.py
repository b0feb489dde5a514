"""Each incident's alert type: its structured identity when the integration sent one, its
mined text template otherwise (issue 13, part 2).

The text template (``noise_summary_templates``) is what a person reads and what the advice
matches on (``event.summary``), so it stays the type's ``template`` text: for a structured type,
the most frequent text template among its incidents (ties by text). Only the ``template_id``
changes: ``template_id("<source>|<key>")`` (:mod:`etl.noise.identity`), so two firings of one
rule share a type however their texts differ, and two rules never share one because their
texts look alike. ``identity_source`` says which: an integration name, or ``text``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from etl import incremental
from etl.noise.identity import Identity, recognise
from etl.noise.templates import template_id
from etl.sqlfiles import sql_text

# Each incident's recognised identity, kept between builds (None: its details name none), keyed
# by the incident and the hash of the custom details it was recognised from. Recognition is a
# function of the details alone, so a nightly build recognises only the incidents whose details
# it has not seen: at a million incidents, 2,700 a day instead of 956,000 (the SQL and the
# Python reading took 9-10 s of the build). Dropped whenever the recogniser changes
# (``_recogniser_fingerprint``) and ignored by ``pagerlens build --full``.
MEMO = "_noise_identities"
MEMO_SCHEMA = f"""
create table if not exists {MEMO} (
    incident_id varchar not null,
    details_hash ubigint not null,
    identity_source varchar,          -- NULL: the details carry no identity
    type_text varchar
);
"""

# The recognised identities the SQL claims (noise/sql/recognise_identities.sql) or Python reads.
_IDENTITY_SCHEMA = pa.schema(
    [("incident_id", pa.string()), ("identity_source", pa.string()), ("type_text", pa.string())]
)


def write_structured_types(con: duckdb.DuckDBPyConnection, found: pa.Table) -> int:
    """Write the temp table ``noise_structured_types`` (incident_id, template_id, template,
    identity_source; read by :func:`etl.noise.inputs.read_incidents` and
    ``int_incident_noise.sql``) from the identities ``found`` (:func:`recognise_identities`, or
    :func:`no_identities` to type every incident by its text template alone) and return its
    row count. Needs ``noise_summary_templates``; the join of types to incidents stays in
    DuckDB."""
    type_texts = pc.unique(found.column("type_text")).to_pylist()
    type_ids = pa.table(
        {
            "type_text": pa.array(type_texts, pa.string()),
            "template_id": pa.array([template_id(t) for t in type_texts], pa.string()),
        }
    )
    con.register("noise_incident_identities", found)
    con.register("noise_type_ids", type_ids)
    try:
        con.execute(sql_text("noise/sql/structured_types.sql"))
    finally:
        con.unregister("noise_incident_identities")
        con.unregister("noise_type_ids")
    ((rows,),) = con.execute("select count(*) from noise_structured_types").fetchall()
    return rows


def no_identities() -> pa.Table:
    """No structured identity for any incident (what the benchmark compares with)."""
    return _IDENTITY_SCHEMA.empty_table()


def recognise_identities(con: duckdb.DuckDBPyConnection, *, reuse: bool = True) -> pa.Table:
    """(incident_id, identity_source, type_text) of every incident of ``noise_incidents`` with
    a recognised structured identity.

    An incident's custom details are its trigger entry's (``noise/sql/incident_details.sql``),
    else its first alert's (``noise/sql/alert_details.sql``, whose JSON is parsed only if some
    incident needs it). The commonest shapes are recognised in SQL
    (``noise/sql/recognise_identities.sql``, the same identities as
    :func:`etl.noise.identity.recognise`); Python reads the rest. Identities recognised by an
    earlier build from the same details are reused (``MEMO``) unless ``reuse`` is False."""
    con.execute(sql_text("noise/sql/incident_details.sql"))
    con.execute(sql_text("noise/sql/identity_macros.sql"))
    _forget_unless_reusable(con, reuse)
    # Each incident's details (entry and hash), known when a remembered identity matches them.
    con.execute(
        f"""
        create or replace temp table noise_details as
        select details.*, memo.incident_id is not null as known
        from noise_incident_details as details
        left join {MEMO} as memo
            on memo.incident_id = details.incident_id
            and memo.details_hash = details.details_hash
        """  # noqa: S608
    )
    con.execute("drop view noise_incident_details")
    con.execute(
        f"create or replace temp table noise_known as select memo.* from {MEMO} as memo"  # noqa: S608
        " semi join noise_details as d on d.incident_id = memo.incident_id and d.known"
    )
    # The text of the details not seen before (only theirs is read), under the name
    # recognise_identities.sql reads. The hash test (true of every entry joined) lets the scan
    # drop the entries without details (7.5M of 8.5M at 1M) before they probe the join (at 1M:
    # 0.9-1.3 s -> 0.65 s).
    con.execute(
        "create or replace temp view noise_incident_details as"
        " select d.incident_id, entries.trigger_details as details"
        " from noise_details as d"
        " inner join stg_log_entries as entries on entries.log_entry_id = d.log_entry_id"
        " where not d.known and entries.trigger_details_hash is not null"
    )
    con.execute(
        "create or replace temp table noise_recognised as "
        + sql_text("noise/sql/recognise_identities.sql")
    )
    con.execute("drop view noise_incident_details")
    by_python = _by_python(
        con.execute(
            "select incident_id, details from noise_recognised where identity_source = 'python'"
        ).fetchall()
    )
    _remember(con, by_python)
    found = con.sql(
        f"select incident_id, identity_source, type_text from {MEMO}"  # noqa: S608
        " where identity_source is not null"
    ).to_arrow_table()
    # Incidents whose trigger entry carried no details: their first alert's (not remembered:
    # raw alerts are fetched again when their incident changes).
    missing = [
        incident_id
        for (incident_id,) in con.execute(
            "select base.incident_id from noise_incidents as base "
            "anti join noise_details as known on known.incident_id = base.incident_id "
            "where base.incident_id is not null and base.summary is not null "
            "order by base.incident_id"
        ).fetchall()
    ]
    for table in ("noise_recognised", "noise_known", "noise_details"):
        con.execute(f"drop table {table}")
    from_alerts = []
    if missing:
        sql = sql_text("noise/sql/alert_details.sql")
        from_alerts = con.execute(sql, {"incident_ids": missing}).fetchall()
    return pa.concat_tables([found.cast(_IDENTITY_SCHEMA), _by_python(from_alerts)])


def _by_python(rows: list[tuple[str, str]]) -> pa.Table:
    """The identities :func:`etl.noise.identity.recognise` reads from (incident_id, details)
    rows; the incidents without one are left out. Each distinct details text is read once
    (the SQL hands over text alert lists without their per-firing lines: at a million
    incidents, about a thousand distinct texts for 221,411 rows)."""
    read: list[tuple[str, str, str]] = []
    seen: dict[str, Identity | None] = {}
    for incident_id, details in rows:
        if details in seen:
            found = seen[details]
        else:
            found = seen[details] = recognise(details)
        if found is not None:
            read.append((incident_id, found.source, found.type_text))
    return pa.table(
        {name: [row[i] for row in read] for i, name in enumerate(_IDENTITY_SCHEMA.names)},
        schema=_IDENTITY_SCHEMA,
    )


def _forget_unless_reusable(con: duckdb.DuckDBPyConnection, reuse: bool) -> None:
    """Empty ``MEMO`` unless ``reuse`` and the recogniser is the one that filled it."""
    con.execute(MEMO_SCHEMA)
    fingerprint = _recogniser_fingerprint()
    if not reuse or incremental.kept_fingerprint(con, MEMO) != fingerprint:
        con.execute(f"delete from {MEMO}")  # noqa: S608
        incremental.keep_fingerprint(con, MEMO, fingerprint)


def _remember(con: duckdb.DuckDBPyConnection, by_python: pa.Table) -> None:
    """Replace ``MEMO`` by the identities of the incidents with details now: the reused ones
    and those just recognised (in SQL, else by Python; NULL where neither found one)."""
    con.register("noise_python_identities", by_python)
    try:
        con.execute(
            f"""
            create or replace table {MEMO} as
            select * from noise_known
            union all
            select
                r.incident_id,
                d.details_hash,
                case
                    when r.identity_source = 'python' then p.identity_source
                    when r.identity_source <> 'none' then r.identity_source
                end as identity_source,
                case
                    when r.identity_source = 'python' then p.type_text
                    when r.identity_source <> 'none' then r.type_text
                end as type_text
            from noise_recognised as r
            inner join noise_details as d using (incident_id)
            left join noise_python_identities as p using (incident_id)
            """  # noqa: S608
        )
    finally:
        con.unregister("noise_python_identities")


def _recogniser_fingerprint() -> str:
    """The code that turns details into an identity: its SQL, its Python and DuckDB's version."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    sql_dir = Path(__file__).with_name("sql")
    for name in ("recognise_identities.sql", "identity_macros.sql"):
        digest.update((sql_dir / name).read_bytes())
    digest.update(Path(__file__).with_name("identity.py").read_bytes())
    return digest.hexdigest()
