"""The spool: group commits from many threads, each delivery stored once, readable by a second
connection (the worker's) while the receiver writes."""

from __future__ import annotations

import threading

from etl.live import Spool, parse_event
from tests.live.support import with_event_id


def test_concurrent_adds_store_each_event_once(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    bodies = [with_event_id("acknowledged_v3.json", f"E{i % 150:04d}") for i in range(300)]
    answers: list[bool] = []
    lock = threading.Lock()

    def deliver(share: list[bytes]) -> None:
        for body in share:
            stored = spool.add(parse_event(body), body)
            with lock:
                answers.append(stored)

    threads = [threading.Thread(target=deliver, args=(bodies[i::12],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(True) == 150 and answers.count(False) == 150
    worker_side = Spool(tmp_path / "spool.sqlite")
    status = worker_side.status()
    assert (status["pending"], status["duplicate_deliveries"]) == (150, 150)
    batch = worker_side.pending()
    assert batch.events == 150 and batch.incident_ids == ["PQ1K5C8"]
    assert worker_side.mark_applied(batch.last_seq) == 150
    assert spool.pending() is None
    spool.close()
    worker_side.close()


def test_events_after_a_batch_stay_pending(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        first = with_event_id("triggered_v3.json", "E1")
        spool.add(parse_event(first), first)
        batch = spool.pending()
        later = with_event_id("resolved_v3.json", "E2")
        spool.add(parse_event(later), later)  # arrives while the batch is being applied
        assert spool.mark_applied(batch.last_seq) == 1
        assert spool.pending().incident_ids == ["PCPZE64"]


def test_prune_removes_only_old_applied_events(tmp_path):
    from datetime import UTC, datetime, timedelta

    with Spool(tmp_path / "spool.sqlite") as spool:
        for i in range(3):
            body = with_event_id("triggered_v3.json", f"E{i}")
            spool.add(parse_event(body), body)
        spool.mark_applied(2, at=datetime.now(UTC) - timedelta(days=8))
        assert spool.prune(timedelta(days=7)) == 2
        assert spool.event_ids() == ["E2"]  # still pending: never pruned
        assert spool.prune(timedelta(days=7)) == 0
