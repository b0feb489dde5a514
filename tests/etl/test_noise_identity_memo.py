"""Structured identities remembered between builds (etl/noise/alert_types.py, ``MEMO``): a
build recognises only the incidents whose custom details it has not seen, reuses the rest,
and starts over when the details, the recogniser or ``reuse`` say so."""

from __future__ import annotations

import json

import duckdb
import pytest

from etl.noise import alert_types
from etl.noise.alert_types import MEMO, recognise_identities
from tests.etl.test_noise_identity import am_alert, am_details, am_legacy, fixture

BODIES = {
    "P1": am_details(am_alert("KubePodCrashLooping", instance="10.0.3.17:8080")),  # SQL
    "P2": fixture("datadog_monitor.json"),  # SQL
    "P3": am_legacy(am_alert("DiskFull", instance="db-1")),  # Python
    "P4": {"from": "alerts@x", "subject": "Disk full"},  # no identity
}


@pytest.fixture
def con():
    con = duckdb.connect()
    # The details' entry and hash, as the noise_incidents model finds them.
    con.execute(
        "create table noise_incidents (incident_id varchar, summary varchar,"
        " details_log_entry_id varchar, details_hash ubigint)"
    )
    con.execute(
        "create table stg_log_entries (log_entry_id varchar, incident_id varchar,"
        " entry_type varchar, created_at timestamptz, trigger_details varchar,"
        " trigger_details_hash ubigint)"
    )
    for incident_id, body in BODIES.items():
        _write(con, incident_id, body)
    yield con
    con.close()


def _write(con, incident_id: str, body: dict) -> None:
    con.execute("delete from noise_incidents where incident_id = ?", [incident_id])
    con.execute("delete from stg_log_entries where incident_id = ?", [incident_id])
    con.execute(
        "insert into noise_incidents select $2, 'summary', $1, hash($3)",
        [f"L-{incident_id}", incident_id, json.dumps(body)],
    )
    con.execute(
        "insert into stg_log_entries select $1, $2, 'trigger_log_entry', now(), $3, hash($3)",
        [f"L-{incident_id}", incident_id, json.dumps(body)],
    )


def _identities(con, **kw) -> dict[str, tuple[str, str]]:
    table = recognise_identities(con, **kw)
    rows = zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)
    return {incident_id: (source, text) for incident_id, source, text in rows}


def _tamper(con, incident_id: str) -> None:
    """Make the remembered identity of ``incident_id`` recognisable as remembered."""
    con.execute(f"update {MEMO} set type_text = 'remembered' where incident_id = ?", [incident_id])  # noqa: S608


def test_identities_are_remembered_and_reused_while_the_details_stay(con):
    first = _identities(con)
    assert set(first) == {"P1", "P2", "P3"}  # P4's details name no identity
    assert con.execute(f"select count(*) from {MEMO}").fetchall()[0][0] == 4  # noqa: S608
    _tamper(con, "P1")
    _tamper(con, "P3")
    again = _identities(con)
    assert again["P1"][1] == again["P3"][1] == "remembered"
    assert again["P2"] == first["P2"]
    # New details for P1: recognised again; P3 still remembered; a new incident recognised.
    _write(con, "P1", am_details(am_alert("KubeNodeNotReady", instance="node-7")))
    _write(con, "P5", BODIES["P2"])
    later = _identities(con)
    assert later["P1"][0] == "alertmanager" and "KubeNodeNotReady" in later["P1"][1]
    assert later["P3"][1] == "remembered" and later["P5"] == first["P2"]
    # An incident gone is forgotten.
    con.execute("delete from noise_incidents where incident_id = 'P5'")
    _identities(con)
    assert "P5" not in {r[0] for r in con.execute(f"select incident_id from {MEMO}").fetchall()}  # noqa: S608


def test_no_reuse_or_another_recogniser_recognises_everything_again(con, monkeypatch):
    first = _identities(con)
    _tamper(con, "P1")
    assert _identities(con, reuse=False) == first
    _tamper(con, "P1")
    monkeypatch.setattr(alert_types, "_recogniser_fingerprint", lambda: "another recogniser")
    assert _identities(con) == first
