"""`pagerlens demo --live`: simulator, listener (and dashboard) together, as a user runs it.

The demo runs in a subprocess with a known webhook secret (``secrets.token_urlsafe`` is
replaced in that process only, so that the test can look for the secret) and its temporary
files (``tempfile.mkstemp``) in a folder of its own, so that the secret file's removal can be
checked (not TMPDIR: the PDF report's Chromium would follow it). The sync stops at the start of the live
day, so incidents created that day can only have come through the webhooks.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl.cli.demo_live import LIVE_WINDOW, _write_secret
from tests.conftest import SIM_END, TIMED_WAITS_REASON, UNDER_LIBFAKETIME

KNOWN_SECRET = "demo-live-test-secret-4f1c9a7e2b"
LIVE_START = SIM_END - LIVE_WINDOW
SUMMARY = re.compile(
    r"^live: (?P<events>\d+) events played, (?P<accepted>\d+) deliveries accepted .*; "
    r"(?P<stored>\d+) stored, (?P<duplicates>\d+) duplicates dropped, (?P<pending>\d+) pending; "
    r"(?P<applies>\d+) applies \(\d+ postponed\), last publish (?P<last>.+)$",
    re.MULTILINE,
)
RUN_DEMO = (
    "import functools, secrets, sys, tempfile; "
    "secrets.token_urlsafe = lambda n=None: {secret!r}; "
    "tempfile.mkstemp = functools.partial(tempfile.mkstemp, dir={tmp!r}); "
    "from etl.cli import main; sys.exit(main())"
)
REPO = Path(__file__).resolve().parents[2]


def demo_command(tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        RUN_DEMO.format(secret=KNOWN_SECRET, tmp=str(tmp_path / "tmp")),
        "demo",
        "--live",
        "--no-dashboard",
        "--live-speed",
        "3600",
        "--days",
        "7",
        "--end",
        SIM_END.date().isoformat(),
        "--db",
        str(tmp_path / "demo.duckdb"),
        "--out",
        str(tmp_path / "out"),
        *extra,
    ]


def demo_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": python_path}


def assert_secret_nowhere(tmp_path: Path, *outputs: str) -> None:
    for text in outputs:
        assert KNOWN_SECRET not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "demo.duckdb" for p in files)
    for path in files:
        assert KNOWN_SECRET.encode() not in path.read_bytes(), path
    assert not list((tmp_path / "tmp").glob("pagerlens-demo-webhook-*")), "secret file left"


@pytest.mark.slow
@pytest.mark.skipif(UNDER_LIBFAKETIME, reason=TIMED_WAITS_REASON)  # --live-for's timed wait
def test_demo_live_delivers_webhooks_into_the_published_warehouse(tmp_path):
    result = subprocess.run(
        demo_command(tmp_path, "--live-for", "6"),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=demo_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout[-2000:]
    assert int(summary["events"]) > 0 and int(summary["applies"]) > 0
    assert int(summary["pending"]) == 0 and summary["last"] != "none"

    spool = sqlite3.connect(tmp_path / "demo.duckdb.webhooks.sqlite")
    try:
        stored = spool.execute("select count(*) from events").fetchall()[0][0]
        states = dict(spool.execute("select state, count(*) from events group by 1").fetchall())
    finally:
        spool.close()
    assert stored > 0 and stored == int(summary["stored"])
    assert states.get("pending", 0) == 0

    con = duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True)
    try:
        runs = con.execute("select mode, status, until from _sync_runs").fetchall()
        live_incidents = con.execute(
            "select count(*) from incidents where created_at >= ?", [LIVE_START]
        ).fetchall()[0][0]
    finally:
        con.close()
    # The full sync stopped where the live day starts: the day's incidents came by webhook.
    assert ("full", "ok", LIVE_START) in runs
    assert any(
        mode == "live" and status == "ok" and until > LIVE_START for mode, status, until in runs
    )
    assert live_incidents > 0
    assert_secret_nowhere(tmp_path, result.stdout, result.stderr)


@pytest.mark.slow
def test_demo_live_stops_in_order_on_sigterm(tmp_path):
    process = subprocess.Popen(
        demo_command(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=demo_env(tmp_path),
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("live: playing"):
                break
        assert lines and lines[-1].startswith("live: playing"), "".join(lines)[-2000:]
        # While it runs: the secret is in a private file (and only there).
        (secret_file,) = (tmp_path / "tmp").glob("pagerlens-demo-webhook-*")
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert secret_file.read_text().strip() == KNOWN_SECRET
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr[-3000:]
    assert SUMMARY.search(stdout), stdout[-2000:]
    assert_secret_nowhere(tmp_path, "".join(lines), stdout, stderr)


def test_webhook_secret_file_is_private_and_random(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    first, second = _write_secret(), _write_secret()
    try:
        assert first.parent == tmp_path
        assert stat.S_IMODE(first.stat().st_mode) == 0o600
        values = first.read_text().strip(), second.read_text().strip()
        assert len(values[0]) >= 32 and values[0] != values[1]
    finally:
        first.unlink()
        second.unlink()
