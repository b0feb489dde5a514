"""The on-disk spool of webhook deliveries: durable before acknowledged, de-duplicated.

SQLite, in WAL mode with ``synchronous=FULL``: each delivery is one committed transaction, and
the commit returns only after the write-ahead log is fsync'd, so once the receiver answers 2xx
the event survives a SIGKILL or a power cut. Why SQLite rather than DuckDB or a log file:

* it is in the standard library, and ``event_id`` as a unique key de-duplicates in the same
  statement that stores (``insert ... on conflict do nothing``), with no read-then-write race
  between the receiver's threads;
* WAL lets the apply worker (another connection, maybe another process) read and mark events
  while the receiver writes, without blocking it; DuckDB allows one writing process per file,
  which would put the receiver and the worker in one process behind one lock;
* a small transaction costs a WAL append and one fsync (thousands a second here), where a
  DuckDB commit checkpoints and rewrites far more.

An event's ``state``: ``pending`` (to apply), ``applied`` (its incident was refreshed and
published), or ``kept`` (nothing to apply: a ping, a service change, an unknown type; stored
and reported, never dropped). Only applied rows are ever deleted: the worker prunes those
applied more than a week ago (:meth:`Spool.prune`); a delivery is ~2 kB.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from etl.live.events import WebhookEvent

SCHEMA = """
create table if not exists events (
    seq integer primary key autoincrement,
    event_id text not null unique,
    event_type text not null,
    occurred_at text not null,
    incident_id text,
    received_at text not null,
    body blob not null,
    state text not null,
    applied_at text,
    note text
);
create index if not exists events_by_state on events (state, seq);
create table if not exists counters (name text primary key, value integer not null);
"""


def spool_path(db_path: str | os.PathLike) -> Path:
    """The default spool beside a warehouse: ``<db>.webhooks.sqlite``."""
    path = Path(db_path)
    return path.with_name(path.name + ".webhooks.sqlite")


@dataclass(frozen=True)
class PendingBatch:
    """Pending events up to ``last_seq``, and the incidents they touch."""

    last_seq: int
    incident_ids: list[str]
    events: int
    oldest_received_at: str | None
    # The newest event of the batch: (received_at, event_type, occurred_at), ISO 8601 text.
    newest: tuple[str, str, str] | None = None


class Spool:
    """One connection to the spool, safe to share between threads (calls are serialised)."""

    def __init__(self, path: str | os.PathLike, *, timeout: float = 30.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._group = threading.Condition()
        self._queue: list[_Queued] = []
        self._committing = False
        self._con = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._con.execute("pragma journal_mode = wal")
        self._con.execute("pragma synchronous = full")
        self._con.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the receiver's side ------------------------------------------------------------------
    def add(self, event: WebhookEvent, body: bytes, *, received_at: datetime | None = None) -> bool:
        """Store a delivery durably; False when its ``event_id`` is already stored (a retry or
        a duplicate delivery: counted, the first copy is kept).

        Group commit: deliveries arriving while a commit is under way wait for it, and the
        next caller commits all of them in one transaction (one fsync), so concurrent
        deliveries share the cost of durability. Each call returns only after its own row is
        committed.
        """
        state, note = _initial_state(event)
        at = (received_at or datetime.now(UTC)).isoformat()
        row = (
            event.event_id,
            event.event_type,
            event.occurred_at,
            event.incident_id,
            at,
            body,
            state,
            note,
        )
        item = _Queued(row)
        with self._group:
            self._queue.append(item)
            while not item.done:
                if not self._committing:
                    self._committing = True
                    batch, self._queue = self._queue, []
                    break
                self._group.wait()
            else:
                return item.result()
        try:
            self._commit(batch)
        finally:
            with self._group:
                self._committing = False
                self._group.notify_all()
        return item.result()

    def _commit(self, batch: list[_Queued]) -> None:
        with self._lock:
            try:
                self._con.execute("begin immediate")
                duplicates = 0
                for queued in batch:
                    cursor = self._con.execute(
                        "insert into events (event_id, event_type, occurred_at, incident_id,"
                        " received_at, body, state, note) values (?, ?, ?, ?, ?, ?, ?, ?)"
                        " on conflict (event_id) do nothing",
                        queued.row,
                    )
                    queued.stored = cursor.rowcount == 1
                    duplicates += not queued.stored
                if duplicates:
                    self._bump("duplicate_deliveries", duplicates)
                self._con.execute("commit")
            except BaseException as exc:
                if self._con.in_transaction:
                    self._con.execute("rollback")
                for queued in batch:
                    queued.error = exc
                raise
            finally:
                for queued in batch:
                    queued.done = True

    def _bump(self, name: str, by: int = 1) -> None:
        self._con.execute(
            "insert into counters (name, value) values (?, ?)"
            " on conflict (name) do update set value = value + excluded.value",
            (name, by),
        )

    # -- the worker's side --------------------------------------------------------------------
    def pending(self, limit: int = 5000) -> PendingBatch | None:
        """The oldest ``limit`` pending events as one batch, or None when there are none."""
        with self._lock:
            rows = self._con.execute(
                "select seq, incident_id, received_at, event_type, occurred_at from events"
                " where state = 'pending' order by seq limit ?",
                (limit,),
            ).fetchall()
        if not rows:
            return None
        incidents = sorted({row[1] for row in rows if row[1]})
        newest = max(rows, key=lambda row: row[2])
        return PendingBatch(
            rows[-1][0], incidents, len(rows), rows[0][2], (newest[2], newest[3], newest[4])
        )

    def mark_applied(self, last_seq: int, at: datetime | None = None) -> int:
        """Mark pending events up to ``last_seq`` applied; returns how many."""
        stamp = (at or datetime.now(UTC)).isoformat()
        with self._lock:
            cursor = self._con.execute(
                "update events set state = 'applied', applied_at = ?"
                " where state = 'pending' and seq <= ?",
                (stamp, last_seq),
            )
            return cursor.rowcount

    def prune(self, older_than: timedelta) -> int:
        """Delete applied events applied more than ``older_than`` ago; returns how many."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        with self._lock:
            cursor = self._con.execute(
                "delete from events where state = 'applied' and applied_at < ?", (cutoff,)
            )
            return cursor.rowcount

    # -- reporting ----------------------------------------------------------------------------
    def status(self) -> dict:
        """Counts by state, kept events by type, duplicates and the last receipt."""
        with self._lock:
            by_state = dict(
                self._con.execute("select state, count(*) from events group by state").fetchall()
            )
            kept = dict(
                self._con.execute(
                    "select event_type, count(*) from events where state = 'kept'"
                    " group by event_type order by event_type"
                ).fetchall()
            )
            unknown = dict(
                self._con.execute(
                    "select event_type, count(*) from events where note like 'unknown%'"
                    " group by event_type order by event_type"
                ).fetchall()
            )
            counters = dict(self._con.execute("select name, value from counters").fetchall())
            last = self._con.execute("select max(received_at) from events").fetchone()[0]
        return {
            "pending": by_state.get("pending", 0),
            "applied": by_state.get("applied", 0),
            "kept": by_state.get("kept", 0),
            "kept_by_type": kept,
            "unknown_by_type": unknown,
            "duplicate_deliveries": counters.get("duplicate_deliveries", 0),
            "last_received_at": last,
        }

    def event_ids(self) -> list[str]:
        """Every stored event id, in arrival order (tests and the benchmark)."""
        with self._lock:
            return [row[0] for row in self._con.execute("select event_id from events order by seq")]


@dataclass
class _Queued:
    """One delivery waiting for a group commit."""

    row: tuple
    stored: bool = False
    done: bool = False
    error: BaseException | None = None

    def result(self) -> bool:
        if self.error is not None:
            raise OSError(f"the spool could not store the event: {self.error}") from self.error
        return self.stored


def _initial_state(event: WebhookEvent) -> tuple[str, str | None]:
    if event.incident_id is None:
        if event.known:
            return "kept", "no incident to refresh"
        return "kept", "unknown event type"
    return "pending", None if event.known else "unknown event type (its incident is refreshed)"
