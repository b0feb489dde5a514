"""Service dependencies (PagerDuty's Service Graph, issue 13) against the simulated PagerDuty:
read once per service per run into raw_service_dependencies, staged as one row per
(supporting, dependent) pair equal to the ground truth's graph, malformed answers kept aside in
_rejects, skipped when the plan or key refuses the endpoint, and a re-run changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from bench.truth import load_account
from simulator.dependencies import account_answers, relationship_id
from tests.etl.test_sync import END, account, raw_rows, serving, sync  # noqa: F401

SINCE = END - timedelta(days=3)
PREFIX = "/service_dependencies/technical_services/"
STAGING = Path(__file__).resolve().parents[2] / "etl/models/staging"
PAIRS = "select supporting_service_id, dependent_service_id, relationship_id "
PAIRS += "from stg_service_dependencies order by all"


def rows_of(db, query: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def truth_pairs(account) -> list[tuple[str, str, str]]:  # noqa: F811
    return sorted(
        (upstream, item["service_id"], relationship_id(upstream, item["service_id"]))
        for item in account.ground_truth["service_dependencies"]
        for upstream in item["depends_on"]
    )


def test_synced_raw_answers_and_staged_pairs_equal_the_truth(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        first = sync(db, server, since=SINCE, until=END, build=True)
        asked = [r.path for r in server.request_log if r.path.startswith(PREFIX)]
        raw_first = raw_rows(db)["service_dependencies"]
        staged_first = rows_of(db, PAIRS)
        # A second run (incremental) reads every answer again and changes nothing.
        second = sync(db, server, until=END, build=True)
    services = {s["id"] for s in account.services}
    assert sorted(asked) == sorted(PREFIX + s for s in services)  # one request each
    assert first.skipped == [] and first.records["service_dependencies"] == len(services)
    assert second.records["service_dependencies"] == len(services)
    stored = {k: json.loads(v) for k, v in raw_first}
    assert stored == {k: {"id": k, **v} for k, v in account_answers(account).items()}
    assert staged_first == truth_pairs(account) and len(staged_first) >= 10
    assert raw_rows(db)["service_dependencies"] == raw_first
    assert rows_of(db, PAIRS) == staged_first
    assert rows_of(db, "select count(*) from _rejects") == [(0,)]


def test_a_malformed_answer_is_kept_aside_with_its_reason(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        answers = server._dependencies  # the served answers: two of them broken here
        listless, broken = sorted(s for s, a in answers.items() if a["relationships"])[:2]
        answers[listless] = {"relationships": "none"}
        relationship = dict(answers[broken]["relationships"][0], dependent_service={"id": 7})
        answers[broken] = {"relationships": [relationship]}
        summary = sync(db, server, since=SINCE, until=END, build=True)
        served = {k: v for k, v in answers.items() if k not in (listless, broken)}
    rejects = rows_of(db, "select source, reason, payload from _rejects order by source")
    assert [(source, reason) for source, reason, _ in rejects] == sorted(
        [
            (PREFIX + listless, "no 'relationships' list in the answer"),
            (PREFIX + broken, "relationship 0 has no dependent_service.id"),
        ]
    )
    # The answer as received is kept with the reason, as JSON (once encoded, not a JSON string).
    kept = {source.removeprefix(PREFIX): json.loads(payload) for source, _, payload in rejects}
    assert kept == {listless: answers[listless], broken: answers[broken]}
    assert summary.records["service_dependencies"] == len(served)
    assert {k for k, _ in raw_rows(db)["service_dependencies"]} == set(served)
    # The other side's answers still list the broken services' relationships.
    staged = rows_of(db, PAIRS)
    assert staged and set(staged) <= set(truth_pairs(account))


def relation(supporting: str, dependent: str, rid: str, dependent_type=None) -> dict:
    kind = dependent_type or "technical_service_reference"
    return {
        "supporting_service": {"id": supporting, "type": "technical_service_reference"},
        "dependent_service": {"id": dependent, "type": kind},
        "id": rid,
        "type": "service_dependency",
    }


def test_staging_deduplicates_pairs_and_leaves_business_services_out():
    con = duckdb.connect()
    con.execute("create table raw_service_dependencies (id varchar, payload json)")
    answers = {
        "PDB": [relation("PDB", "PAPI", "D2"), relation("PDB", "PWEB", "D3")],
        # The same relationship seen from the other side; a disagreeing id keeps the smallest.
        "PAPI": [relation("PDB", "PAPI", "D1"), relation("PAPI", "PBIZ", "D4", "business")],
        "PWEB": [relation("PDB", "PWEB", "D3")],
        "PLONE": [],
        "PODD": None,  # not a list (the extract rejects these; the staging must not fail)
    }
    for service_id, relationships in answers.items():
        con.execute(
            "insert into raw_service_dependencies values (?, ?)",
            [service_id, json.dumps({"id": service_id, "relationships": relationships})],
        )
    sql = (STAGING / "stg_service_dependencies.sql").read_text()
    cursor = con.execute(sql)
    assert [d[0] for d in cursor.description] == [
        "supporting_service_id",
        "dependent_service_id",
        "relationship_id",
    ]
    assert sorted(cursor.fetchall()) == [("PDB", "PAPI", "D1"), ("PDB", "PWEB", "D3")]


def test_load_account_stores_the_answers_a_sync_stores(account):  # noqa: F811
    """bench/truth.py's load_account (benchmarks and noise tests, no HTTP) writes the same
    raw_service_dependencies rows as a sync, and stages to the ground truth's pairs."""
    con = duckdb.connect()
    load_account(con, account)
    stored = con.execute("select id, payload::varchar from raw_service_dependencies").fetchall()
    assert {k: json.loads(v) for k, v in stored} == {
        k: {"id": k, **v} for k, v in account_answers(account).items()
    }
    sql = (STAGING / "stg_service_dependencies.sql").read_text()
    assert sorted(con.execute(sql).fetchall()) == truth_pairs(account)
