"""The per-service reads (etl/per_service.py: Event Orchestration service rules, the Service
Graph) against the simulated PagerDuty when the plan or key refuses them (402/403/404): the
first service is asked alone, the resource is then skipped, reported in skipped_resources,
staged empty, and the run still publishes."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from simulator.faults import FaultSpec
from tests.etl.test_sync import END, account, raw_rows, serving, sync  # noqa: F401

SINCE = END - timedelta(days=3)

# (the endpoint's prefix the fault refuses, the path a service is read at, resource, staging)
READS = {
    "orchestrations": (
        "/event_orchestrations",
        "/event_orchestrations/services/",
        "service_orchestrations",
        "stg_service_orchestration_rules",
    ),
    "dependencies": (
        "/service_dependencies",
        "/service_dependencies/technical_services/",
        "service_dependencies",
        "stg_service_dependencies",
    ),
}


def rows_of(db, query: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.mark.parametrize("status", [402, 403, 404])
@pytest.mark.parametrize("read", sorted(READS))
def test_a_refused_per_service_read_is_skipped_after_one_request(
    account,  # noqa: F811
    tmp_path,
    read,
    status,
):
    refused, prefix, resource, staging = READS[read]
    db = tmp_path / "w.duckdb"
    gate = FaultSpec(disabled_endpoints={refused: status})
    with serving(account, faults=gate) as server:
        summary = sync(db, server, since=SINCE, until=END, build=True)
        asked = [(r.path, r.status) for r in server.request_log if r.path.startswith(prefix)]
    assert len(asked) == 1 and asked[0][1] == status  # the probe, then nothing
    assert [(s.resource, s.path, s.status) for s in summary.skipped] == [
        (resource, asked[0][0], status)
    ]
    assert raw_rows(db)[resource] == set()
    assert rows_of(db, "select resource, http_status from skipped_resources") == [
        (resource, status)
    ]
    assert rows_of(db, f"select count(*) from {staging}") == [(0,)]  # noqa: S608
    assert rows_of(db, "select count(*) from incidents")[0][0] > 0  # the run published
