"""Plan-gated and missing endpoints (issue 14 part 2) against the simulated PagerDuty.

An optional resource whose endpoint answers 402 (plan), 403 (key scope) or 404 (feature
absent) is skipped: the run completes, publishes, lists the skip in ``_sync_runs`` and
``_sync_skips``, and the marts build without it. A required endpoint refused fails the run and
keeps the last good warehouse. The first run the endpoint answers again fills the gap in.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import duckdb
import pytest

from etl.extract import OPTIONAL_RESOURCES, REFERENCE_LISTINGS
from etl.pd_client import EndpointUnavailable
from etl.queries import MART_TABLES
from etl.warehouse import read_sync_failures
from simulator.faults import FaultSpec
from tests.etl.test_sync import END, account, clean_rows, raw_rows, serving, sync  # noqa: F401

SINCE = END - timedelta(days=3)
PATHS = {name: path for name, path, _ in REFERENCE_LISTINGS} | {
    "oncalls": "/oncalls",
    # Read per service, /event_orchestrations/services/{id}: disabled for all at once here.
    "service_orchestrations": "/event_orchestrations/services",
    # Read per service, /service_dependencies/technical_services/{id}: the same.
    "service_dependencies": "/service_dependencies/technical_services",
}
# Read per service (tests/etl/test_sync_orchestrations.py, test_sync_dependencies.py).
LISTED = OPTIONAL_RESOURCES - {"service_orchestrations", "service_dependencies"}
CASES = [(name, status) for name in sorted(LISTED) for status in (402, 403, 404)]
MESSAGES = {402: "Payment Required", 403: "Access Denied", 404: "Not Found"}


@pytest.fixture(scope="module")
def clean(account, tmp_path_factory):  # noqa: F811 - the shared fixture
    return clean_rows(account, tmp_path_factory.mktemp("clean") / "w.duckdb", SINCE)


def rows_of(db, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def gated(**statuses: int) -> FaultSpec:
    return FaultSpec(disabled_endpoints={PATHS[name]: status for name, status in statuses.items()})


def test_every_optional_resource_is_read_by_a_run():
    assert OPTIONAL_RESOURCES <= set(PATHS)
    assert {"incidents", "log_entries", "alerts", "services"}.isdisjoint(OPTIONAL_RESOURCES)


@pytest.mark.parametrize(("resource", "status"), CASES, ids=[f"{r}-{s}" for r, s in CASES])
def test_a_refused_optional_endpoint_is_skipped_and_the_run_publishes(
    account,  # noqa: F811
    clean,
    tmp_path,
    resource,
    status,
):
    db = tmp_path / "w.duckdb"
    with serving(account, faults=gated(**{resource: status})) as server:
        summary = sync(db, server, since=SINCE, until=END)
        log = server.request_log
    assert [(s.resource, s.path, s.status) for s in summary.skipped] == [
        (resource, PATHS[resource], status)
    ]
    rows = raw_rows(db)
    assert rows[resource] == set()
    assert {k: v for k, v in rows.items() if k != resource} == {
        k: v for k, v in clean.items() if k != resource
    }
    # Asked once: after the refusal, the run asks for none of the resource's other listings.
    assert [r.path for r in log if r.status != 200] == [PATHS[resource]]
    skips = rows_of(db, "select resource, endpoint, http_status, message from _sync_skips")
    assert skips == [(resource, PATHS[resource], status, skips[0][3])]
    assert MESSAGES[status] in skips[0][3] and server.token not in skips[0][3]
    (message,) = rows_of(db, "select message from _sync_runs where status = 'ok'")[0]
    assert message.startswith(f"skipped {resource}: GET {PATHS[resource]} answered HTTP {status}")
    assert f"skipped {resource} (HTTP {status})" in summary.log_line()


@pytest.mark.parametrize(
    ("path", "status"),
    [("/incidents", 402), ("/log_entries", 403), ("/services", 404), ("/incidents", 404)],
)
def test_a_refused_required_endpoint_fails_and_keeps_the_last_good_warehouse(
    account,  # noqa: F811
    tmp_path,
    path,
    status,
):
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        sync(db, server, since=SINCE, until=END)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    faults = FaultSpec(disabled_endpoints={path: status})
    with serving(account, faults=faults) as server, pytest.raises(EndpointUnavailable) as error:
        sync(db, server, since=SINCE, until=END, full=True)
    assert str(error.value).startswith(f"GET {path} returned HTTP {status}")
    assert MESSAGES[status] in str(error.value)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    (failure,) = read_sync_failures(db)
    assert f"HTTP {status}" in failure["reason"] and server.token not in failure["reason"]


def test_skipped_resources_are_filled_in_when_the_endpoints_answer_again(
    account,  # noqa: F811
    clean,
    tmp_path,
):
    """Run 1: every optional endpoint refused (402, 403, 404 in turn), marts built. Run 2:
    on-calls still refused, the on-call watermark stays at the start. Run 3: everything
    answers; the warehouse equals a clean sync and the skipped_resources mart is empty."""
    db = tmp_path / "w.duckdb"
    statuses = {name: (402, 403, 404)[i % 3] for i, name in enumerate(sorted(OPTIONAL_RESOURCES))}
    with serving(account, faults=gated(**statuses)) as server:
        first = sync(db, server, since=SINCE, until=END, build=True)
        server.faults = gated(oncalls=404)
        second = sync(db, server, until=END)
        marks = dict(rows_of(db, "select resource, value from _watermarks"))
        server.faults = FaultSpec()
        third = sync(db, server, until=END, build=True)
    assert {s.resource: s.status for s in first.skipped} == statuses
    assert [s.resource for s in second.skipped] == ["oncalls"]
    assert marks["oncalls"] == SINCE and marks["log_entries"] == END
    assert third.skipped == [] and third.mode == "incremental"
    assert raw_rows(db) == clean
    assert rows_of(db, "select count(*) from skipped_resources") == [(0,)]
    runs = rows_of(db, "select run_id from _sync_runs order by started_at")
    skipped = rows_of(db, "select run_id, resource from _sync_skips")
    assert {run for run, _ in skipped} == {runs[0][0], runs[1][0]}


def test_marts_build_without_the_optional_resources_and_say_what_is_missing(
    account,  # noqa: F811
    tmp_path,
):
    db = tmp_path / "w.duckdb"
    statuses = {name: 402 for name in OPTIONAL_RESOURCES}
    with serving(account, faults=gated(**statuses)) as server:
        summary = sync(db, server, since=SINCE, until=END, build=True)
    assert len(summary.skipped) == len(OPTIONAL_RESOURCES)
    tables = {row[0] for row in rows_of(db, "select table_name from information_schema.tables")}
    assert set(MART_TABLES) <= tables
    skipped = rows_of(
        db,
        "select resource, http_status, reason, consequence, rows_kept from skipped_resources "
        "order by resource",
    )
    assert [row[0] for row in skipped] == sorted(OPTIONAL_RESOURCES)
    for resource, status, reason, consequence, kept in skipped:
        assert status == 402 and reason == "not in the account's plan" and kept == 0
        assert consequence.startswith("no "), resource
    (incidents,) = rows_of(db, "select count(*) from incidents")[0]
    (raw,) = rows_of(db, "select count(*) from raw_incidents")[0]
    assert incidents == raw > 0
    (on_call,) = rows_of(db, "select sum(total_seconds_on_call) from responder_weekly")[0]
    assert on_call == 0
