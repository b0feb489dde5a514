"""Crash safety: a sync SIGKILLed mid-run leaves the published warehouse intact and readable,
readers are never blocked while it runs, and the next run converges to the same rows."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from etl.queries import Reader
from etl.warehouse import work_path
from tests.etl.test_sync import END, account, raw_rows, serving, sync  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
SINCE = END - timedelta(days=6)
FIRST_UNTIL = END - timedelta(days=2)

CHILD = """
import os, sys
from etl.sync import run_sync
run_sync(sys.argv[1], api_url=sys.argv[2], token=os.environ["PAGERDUTY_API_TOKEN"],
         until=sys.argv[3], build=False, rate_per_minute=1e6, workers=2)
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(account, tmp_path_factory):  # noqa: F811 - the shared fixture
    """The same two runs without a crash: rows and the request count of the second run."""
    db = tmp_path_factory.mktemp("reference") / "w.duckdb"
    with serving(account, now=FIRST_UNTIL) as server:
        sync(db, server, since=SINCE, until=FIRST_UNTIL)
        server.set_clock(END)
        summary = sync(db, server, until=END)
    return raw_rows(db), summary.requests


@pytest.mark.slow
@pytest.mark.parametrize("kill_fraction", [0.05, 0.5, 0.85])
def test_sigkill_mid_run_keeps_the_warehouse_and_the_rerun_converges(
    account,  # noqa: F811
    reference,
    tmp_path,
    kill_fraction,
):
    expected_rows, expected_requests = reference
    db = tmp_path / "w.duckdb"
    with serving(account, now=FIRST_UNTIL) as server:
        sync(db, server, since=SINCE, until=FIRST_UNTIL)
    published = digest(db)
    before = raw_rows(db)

    # The second run goes slowly (40 ms a request) in a child process we kill part-way.
    with serving(account, now=END, latency_ms=40) as server:
        env = dict(os.environ, PAGERDUTY_API_TOKEN=server.token, PYTHONPATH=str(REPO))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db), server.url, END.isoformat()],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        threshold = max(1, int(expected_requests * kill_fraction))
        deadline = time.monotonic() + 120
        reads_during_run = 0
        reader = Reader(db)
        while len(server.request_log) < threshold and child.poll() is None:
            assert time.monotonic() < deadline, "the child sync made no progress"
            # A reader is never blocked by the running sync, and sees the old warehouse.
            counts = reader.df("select count(*) as n from raw_incidents")
            assert counts["n"][0] == len(before["incidents"])
            reads_during_run += 1
            time.sleep(0.005)
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
        killed_after = len(server.request_log)
    assert child.returncode == -signal.SIGKILL
    assert 0 < killed_after < expected_requests
    assert reads_during_run > 0

    # The published warehouse is byte-for-byte the one before the killed run, and readable.
    assert digest(db) == published
    assert raw_rows(db) == before
    assert reader.df("select count(*) as n from raw_log_entries")["n"][0] == len(
        before["log_entries"]
    )

    # The rerun discards the dead run's work file and completes the work.
    with serving(account, now=END) as server:
        summary = sync(db, server, until=END)
    assert summary.mode == "incremental"
    assert not work_path(db).exists()
    # The long-lived reader follows the republished file (and lets go of the old one, which
    # DuckDB would otherwise keep serving to every connection of this process by path).
    after = reader.df("select count(*) as n from raw_log_entries")["n"][0]
    reader.close()
    assert raw_rows(db) == expected_rows
    assert after == len(expected_rows["log_entries"])
