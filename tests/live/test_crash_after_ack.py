"""SIGKILL the listener at any moment: every event it acknowledged is in the spool after the
restart, and PagerDuty's retries of the others land exactly once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from etl.live import Spool
from tests.live.support import SECRET_TEXT, post, with_event_id

REPO = Path(__file__).resolve().parents[2]
NAMES = ["triggered_v3.json", "acknowledged_v3.json", "resolved_v3.json", "annotated_v3.json"]


def start_listener(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PAGERLENS_WEBHOOK_SECRET=SECRET_TEXT)
    env.pop("PAGERDUTY_API_TOKEN", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etl.cli",
            "listen",
            "--no-apply",
            "--port",
            "0",
            "--db",
            str(tmp_path / "w.duckdb"),
            "--spool",
            str(tmp_path / "spool.sqlite"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    assert match, (line, process.stderr.read() if process.poll() is not None else "")
    return process, match.group(1)


def body(i: int) -> bytes:
    return with_event_id(NAMES[i % len(NAMES)], f"E{i:05d}")


def test_sigkill_after_ack_loses_no_acknowledged_event(tmp_path):
    process, url = start_listener(tmp_path)
    acknowledged: list[int] = []
    stop = threading.Event()

    def deliver() -> None:
        i = 0
        while not stop.is_set():
            try:
                status, _ = post(url, body(i))
            except OSError:
                return  # the listener is gone
            if status == 200:
                acknowledged.append(i)
            i += 1

    sender = threading.Thread(target=deliver)
    sender.start()
    while len(acknowledged) < 50:
        assert process.poll() is None
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)  # mid-stream: some delivery is usually in flight
    process.wait()
    stop.set()
    sender.join()

    with Spool(tmp_path / "spool.sqlite") as spool:
        stored = set(spool.event_ids())
    assert {f"E{i:05d}" for i in acknowledged} <= stored

    # PagerDuty retries what it did not see acknowledged, and some of what it did.
    process, url = start_listener(tmp_path)
    try:
        total = max(acknowledged) + 3
        answers = [post(url, body(i))[1]["status"] for i in range(total)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert answers.count("duplicate") >= len(acknowledged)
    with Spool(tmp_path / "spool.sqlite") as spool:
        ids = spool.event_ids()
    assert sorted(ids) == [f"E{i:05d}" for i in range(total)]
