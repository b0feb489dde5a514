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
import pandas as pd
import pyarrow as pa

from etl.noise.identity import recognise
from etl.noise.templates import template_id
from etl.sqlfiles import sql_text

TEXT_SOURCE = "text"
IDENTITY_COLUMNS = ["incident_id", "identity_source", "type_text"]

STRUCTURED_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("template_id", pa.string()),
        ("template", pa.string()),
        ("identity_source", pa.string()),
    ]
)


def read_identities(con: duckdb.DuckDBPyConnection, incident_ids: pd.Series) -> pd.DataFrame:
    """Incident id, identity source and type text of the incidents (of ``incident_ids``) whose
    first alert's custom details are a recognised integration format: the trigger entry's
    (``noise/sql/incident_details.sql``), else the first alert's
    (``noise/sql/alert_details.sql``, whose JSON is parsed only if some incident needs it).

    The commonest shapes are recognised in SQL (``noise/sql/recognise_identities.sql``, the
    same identities as :func:`etl.noise.identity.recognise`); Python reads the rest."""
    con.execute(sql_text("noise/sql/incident_details.sql"))
    con.execute(sql_text("noise/sql/identity_macros.sql"))
    found: list[tuple[str, str, str]] = []
    rows: list[tuple[str, str]] = []  # (incident id, details) for Python to read
    with_details = set()
    for incident_id, source, type_text, details in con.execute(
        sql_text("noise/sql/recognise_identities.sql")
    ).fetchall():
        with_details.add(incident_id)
        if source == "python":
            rows.append((incident_id, details))
        elif source != "none":
            found.append((incident_id, source, type_text))
    con.execute("drop view noise_incident_details")
    missing = sorted({str(i) for i in incident_ids.dropna().tolist()} - with_details)
    if missing:
        sql = sql_text("noise/sql/alert_details.sql")
        rows += con.execute(sql, {"incident_ids": missing}).fetchall()
    for incident_id, details in rows:
        identity = recognise(details)
        if identity is not None:
            found.append((incident_id, identity.source, identity.type_text))
    return pd.DataFrame(found, columns=IDENTITY_COLUMNS)


def no_identities() -> pd.DataFrame:
    """No structured identity for any incident: every alert type is a text template."""
    return pd.DataFrame([], columns=IDENTITY_COLUMNS)


def apply_identities(incidents: pd.DataFrame, identities: pd.DataFrame) -> pa.Table:
    """Give ``incidents`` (with the text ``template_id`` / ``template``) their structured
    types in place and an ``identity_source`` column; returns the structured rows for
    ``int_incident_noise`` (``STRUCTURED_SCHEMA``)."""
    by_incident = identities.set_index("incident_id")
    type_text = incidents["incident_id"].map(by_incident["type_text"])
    source = incidents["incident_id"].map(by_incident["identity_source"])
    structured = type_text.notna()
    texts = type_text[structured].astype(str)
    ids = {t: template_id(t) for t in texts.unique()}
    new_ids = texts.map(ids)
    representative = _representative_templates(new_ids, incidents.loc[structured, "template"])

    template_ids = incidents["template_id"].astype(object)
    templates = incidents["template"].astype(object)
    template_ids[structured] = new_ids
    templates[structured] = new_ids.map(representative)
    incidents["template_id"] = template_ids.astype("category")
    incidents["template"] = templates.astype("category")
    incidents["identity_source"] = source.astype(object).fillna(TEXT_SOURCE).astype("category")

    rows = incidents.loc[structured]
    return pa.table(
        {
            "incident_id": pa.array(rows["incident_id"].astype(str), pa.string()),
            "template_id": pa.array(rows["template_id"].astype(str), pa.string()),
            "template": pa.array(rows["template"].astype(str), pa.string()),
            "identity_source": pa.array(rows["identity_source"].astype(str), pa.string()),
        },
        schema=STRUCTURED_SCHEMA,
    )


def _representative_templates(type_ids: pd.Series, templates: pd.Series) -> dict[str, str]:
    """Per structured type, its most frequent text template (ties: the first by text)."""
    pairs = pd.DataFrame({"type_id": type_ids.to_numpy(), "template": templates.astype(str)})
    counts = pairs.value_counts().reset_index(name="n")
    counts = counts.sort_values(["type_id", "n", "template"], ascending=[True, False, True])
    first = counts.drop_duplicates("type_id")
    return dict(zip(first["type_id"], first["template"], strict=True))
