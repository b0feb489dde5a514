"""The writer lock: a second writer fails at once by default, or waits for the first to finish.

The nightly sync waits (``pagerlens sync --wait``) so that a live apply publishing at the same
moment (docs/live.md) delays it instead of failing it.
"""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from etl.warehouse import WarehouseBusy, building


def _hold(db, started: threading.Event, release: threading.Event, table: str) -> None:
    with building(db) as con:
        con.execute(f"create table {table} as select 1 as x")
        started.set()
        release.wait(30)


def _tables(db) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()
        }


def test_second_writer_fails_at_once_by_default(tmp_path):
    db = tmp_path / "w.duckdb"
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(db, started, release, "first"))
    holder.start()
    try:
        assert started.wait(30)
        with pytest.raises(WarehouseBusy, match="another pagerlens run is writing"):
            with building(db):
                pass
        with pytest.raises(WarehouseBusy):
            with building(db, wait_seconds=0.3):  # the holder outlasts the wait
                pass
    finally:
        release.set()
        holder.join(30)
    assert "first" in _tables(db)


def test_waiting_writer_runs_after_the_first_publishes_and_keeps_its_work(tmp_path):
    db = tmp_path / "w.duckdb"
    started, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(db, started, release, "first"))
    holder.start()
    assert started.wait(30)
    # (time.sleep, not threading.Timer: a Timer's timed wait never ends under libfaketime)
    threading.Thread(target=lambda: (time.sleep(0.5), release.set())).start()
    with building(db, wait_seconds=30) as con:
        # It starts from the first writer's published file, not from the one before it.
        assert con.execute("select count(*) from first").fetchall() == [(1,)]
        con.execute("create table second as select 2 as x")
    holder.join(30)
    assert {"first", "second"} <= _tables(db)
