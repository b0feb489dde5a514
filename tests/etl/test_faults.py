"""The ETL under the simulator's fault injection.

In every case either the warehouse ends identical to a fault-free run, or the run fails with
one clear line and the previously published warehouse is left exactly as it was.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

import duckdb
import pytest

from etl.extract import isoformat
from etl.pd_client import AuthenticationError, PagerDutyError
from etl.warehouse import read_sync_failures, sync_failures_path, work_path
from simulator.account import generate_account
from simulator.faults import FaultSpec
from tests.etl.test_sync import (  # noqa: F401
    END,
    PER_SERVICE_PREFIXES,
    account,
    clean_rows,
    raw_rows,
    serving,
    sync,
)

SINCE = END - timedelta(days=5)


@pytest.fixture(scope="module")
def clean(account, tmp_path_factory):  # noqa: F811 - the shared fixture
    return clean_rows(account, tmp_path_factory.mktemp("clean") / "w.duckdb", SINCE)


def file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "spec",
    [
        # Seeds chosen so that each kind fires within the run's first 25 requests.
        "429=0.3,seed=1",  # a 429 storm (each with Retry-After: 1, capped in tests)
        "500=0.05,502=0.05,503=0.05,504=0.05,seed=5",
        "drop=0.1,seed=5",
        "malformed=0.08,truncated=0.08,seed=1",
        "429=0.05,500=0.03,drop=0.03,malformed=0.03,truncated=0.03,slow=0.02:0.05,seed=5",
    ],
)
def test_transient_faults_end_identical_to_a_clean_run(account, clean, tmp_path, spec):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account, faults=FaultSpec.parse(spec)) as server:
        summary = sync(db, server, since=SINCE, until=END)
        log = server.request_log
    assert raw_rows(db) == clean
    faulted = [r for r in log if r.fault and r.fault != "slow"]
    assert faulted, "the spec injected nothing: the test would prove nothing"
    # Every injected fault cost exactly one retry; nothing else was retried.
    assert summary.retries == len(faulted)
    assert summary.requests == len(log)
    assert not [r for r in log if r.status == 400]


def test_a_persistent_5xx_fails_cleanly_and_keeps_the_warehouse(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        sync(db, server, since=SINCE, until=END)
    before = file_digest(db)
    with serving(account, faults=FaultSpec.parse("503=1.0")) as server:
        with pytest.raises(PagerDutyError) as info:
            sync(db, server, until=END + timedelta(hours=1))
        attempts = len(server.request_log)
    message = str(info.value)
    assert "failed after 8 attempts (last: http 503)" in message and "\n" not in message
    assert file_digest(db) == before
    # ... and the failure is noted beside it, for the dashboard's Data page.
    (noted,) = read_sync_failures(db)
    assert noted["reason"] == f"PagerDutyError: {message}"
    assert noted["requests"] == attempts
    assert not work_path(db).exists()
    # Bounded: the run stops after the first listing that exhausts its budget.
    assert attempts <= 8 * 12


def test_a_body_that_stays_malformed_fails_cleanly(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account, faults=FaultSpec.parse("malformed=1.0")) as server:
        with pytest.raises(PagerDutyError, match="malformed JSON body"):
            sync(db, server, since=SINCE, until=END)
    assert not db.exists() and not work_path(db).exists()


def test_expired_token_fails_with_one_clear_line_and_old_warehouse_intact(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        sync(db, server, since=SINCE, until=END - timedelta(days=1))
        token = server.token
    before = file_digest(db)
    # The key is revoked in the middle of the next run.
    with serving(account, faults=FaultSpec.parse("expire_token_after=5")) as server:
        with pytest.raises(AuthenticationError) as info:
            sync(db, server, until=END)
        statuses = [r.status for r in server.request_log]
    message = str(info.value)
    assert message.startswith("PagerDuty rejected the API token (401)")
    assert "\n" not in message
    (noted,) = read_sync_failures(db)
    assert noted["reason"] == f"AuthenticationError: {message}"
    for fragment in (token, token[-4:], token[:8]):
        assert fragment not in message
        assert fragment not in sync_failures_path(db).read_text()
    assert statuses.count(401) >= 1 and statuses.count(401) <= 6  # never retried per request
    assert file_digest(db) == before
    assert not work_path(db).exists()


def test_wrong_token_from_the_start(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        with pytest.raises(AuthenticationError):
            from etl.sync import run_sync

            run_sync(db, api_url=server.url, token="not-the-token", until=END, build=False)
    assert not db.exists()


@pytest.mark.slow
def test_windows_over_the_offset_cap_are_split(tmp_path):
    """Ninety days hold more than 10,000 log entries: the window is split, never a 400."""
    big = generate_account(seed=7, days=90, end=END)
    entries = sum(len(sim.log_entries) for sim in big.incidents)
    assert entries > 10_000, "the account must overflow the cap for this test to mean anything"
    db = tmp_path / "w.duckdb"
    with serving(big) as server:
        summary = sync(db, server, since=big.start, until=END)
        log = server.request_log
    assert summary.splits >= 1
    assert not [r for r in log if r.status != 200]
    pages = [r for r in log if r.path == "/log_entries"]
    whole = (isoformat(big.start), isoformat(END))
    asked_whole = [r for r in pages if (r.query["since"], r.query["until"]) == whole]
    # The whole range was asked once (first page, total=true), found too big, and split.
    assert len(asked_whole) == 1 and asked_whole[0].query["total"] == "true"
    assert all(int(r.query.get("offset", 0)) + int(r.query["limit"]) <= 10_000 for r in pages)
    con = duckdb.connect(str(db), read_only=True)
    loaded = con.execute("select count(*) from raw_log_entries").fetchall()[0][0]
    con.close()
    assert loaded == entries
    # Sub-windows are contiguous, cover the range exactly, and each is read to its end.
    windows = sorted({(r.query["since"], r.query["until"]) for r in pages} - {whole})
    assert len(windows) >= 2
    assert windows[0][0] == whole[0] and windows[-1][1] == whole[1]
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert len(pages) == 1 + sum(
        math.ceil(
            sum(
                1
                for sim in big.incidents
                for e in sim.log_entries
                if w[0] <= isoformat(datetime.fromisoformat(e["created_at"])) < w[1]
            )
            / 100
        )
        for w in windows
    )


def test_lowered_cap_splits_and_changes_nothing(account, tmp_path):  # noqa: F811
    """With a cap of 300 records (pages of 50) the splitter works hard; the rows are the same."""
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        summary = sync(db, server, since=SINCE, until=END, offset_cap=300, page_size=50)
        log = server.request_log
    clean_db = tmp_path / "clean.duckdb"
    with serving(account) as server:
        sync(clean_db, server, since=SINCE, until=END)
    assert summary.splits >= 1
    # Every listing page stays under the cap (per-service answers are not paged).
    pages = [r for r in log if not r.path.startswith(PER_SERVICE_PREFIXES)]
    assert all(int(r.query.get("offset", 0)) + int(r.query["limit"]) <= 300 for r in pages)
    windows = {(r.query["since"], r.query["until"]) for r in log if r.path == "/log_entries"}
    assert len(windows) >= 4
    assert raw_rows(db) == raw_rows(clean_db)
