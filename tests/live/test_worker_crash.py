"""SIGKILL `pagerlens listen` while its worker applies: the published warehouse is always the
old or a new complete one, events stay pending until a publish, and after restarts the
warehouse converges (every incident as the API shows it, nothing left pending)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl.live import Spool
from etl.warehouse import work_path
from tests.conftest import TIMED_WAITS_REASON, UNDER_LIBFAKETIME
from tests.live.support import SECRET_TEXT
from tests.live.test_worker import (  # noqa: F401 - fixtures
    SIM_END,
    T0,
    account,
    incident_states,
    server,
    spool_events_after,
    synced,
)

REPO = Path(__file__).resolve().parents[2]


def start_listener(db: Path, spool: Path, api_url: str, token: str) -> subprocess.Popen:
    env = dict(os.environ, PAGERLENS_WEBHOOK_SECRET=SECRET_TEXT, PAGERDUTY_API_TOKEN=token)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etl.cli",
            "listen",
            "--port",
            "0",
            "--db",
            str(db),
            "--spool",
            str(spool),
            "--api-url",
            api_url,
            "--debounce",
            "0",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert re.search(r"listening on http://", process.stdout.readline())
    return process


def readable(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select count(*) from incidents").fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.skipif(UNDER_LIBFAKETIME, reason=TIMED_WAITS_REASON)  # the worker's poll wait
def test_sigkill_during_apply_converges(account, server, synced, tmp_path):  # noqa: F811
    spool_file = tmp_path / "spool.sqlite"
    with Spool(spool_file) as spool:
        touched = spool_events_after(account, spool, T0)
    assert touched
    rng = random.Random(11)
    for _ in range(2):
        process = start_listener(synced, spool_file, server.url, server.token)
        time.sleep(rng.uniform(2.0, 4.5))  # the first poll is at 2 s: often mid-apply
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert readable(synced) > 0  # the old or a new complete warehouse, never half of one
    process = start_listener(synced, spool_file, server.url, server.token)
    try:
        deadline = time.monotonic() + 90
        with Spool(spool_file) as spool:
            while spool.status()["pending"] and time.monotonic() < deadline:
                time.sleep(0.3)
            assert spool.status()["pending"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    states = incident_states(synced)
    assert all(states[s.id] == s.as_of(SIM_END)[0]["status"] for s in account.incidents)
    assert not work_path(synced).exists()  # a killed apply's work file was discarded
