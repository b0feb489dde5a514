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

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from etl.noise.identity import recognise
from etl.noise.templates import template_id
from etl.sqlfiles import sql_text

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


def recognise_identities(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(incident_id, identity_source, type_text) of every incident of ``noise_incidents`` with
    a recognised structured identity.

    An incident's custom details are its trigger entry's (``noise/sql/incident_details.sql``),
    else its first alert's (``noise/sql/alert_details.sql``, whose JSON is parsed only if some
    incident needs it). The commonest shapes are recognised in SQL
    (``noise/sql/recognise_identities.sql``, the same identities as
    :func:`etl.noise.identity.recognise`); Python reads the rest."""
    con.execute(sql_text("noise/sql/incident_details.sql"))
    con.execute(sql_text("noise/sql/identity_macros.sql"))
    con.execute(
        "create or replace temp table noise_recognised as "
        + sql_text("noise/sql/recognise_identities.sql")
    )
    con.execute("drop view noise_incident_details")
    claimed = con.sql(
        "select incident_id, identity_source, type_text from noise_recognised "
        "where identity_source not in ('python', 'none')"
    ).to_arrow_table()
    rows = con.execute(
        "select incident_id, details from noise_recognised where identity_source = 'python'"
    ).fetchall()
    # Incidents whose trigger entry carried no details: their first alert's.
    missing = [
        incident_id
        for (incident_id,) in con.execute(
            "select base.incident_id from noise_incidents as base "
            "anti join noise_recognised as known on known.incident_id = base.incident_id "
            "where base.incident_id is not null and base.summary is not null "
            "order by base.incident_id"
        ).fetchall()
    ]
    con.execute("drop table noise_recognised")
    if missing:
        sql = sql_text("noise/sql/alert_details.sql")
        rows += con.execute(sql, {"incident_ids": missing}).fetchall()
    read: list[tuple[str, str, str]] = []
    for incident_id, details in rows:
        identity = recognise(details)
        if identity is not None:
            read.append((incident_id, identity.source, identity.type_text))
    by_python = pa.table(
        {name: [row[i] for row in read] for i, name in enumerate(_IDENTITY_SCHEMA.names)},
        schema=_IDENTITY_SCHEMA,
    )
    return pa.concat_tables([claimed.cast(_IDENTITY_SCHEMA), by_python])
