"""Benchmark: the live receiver's ingest rate and the freshness of the published warehouse.

1. Ingest. ``pagerlens listen``'s receiver runs in its own process; 8 client threads POST signed
   v3 deliveries (a real payload, a new id each, a new connection each, as PagerDuty
   connects) as fast as it answers. Measured: deliveries per second accepted, and p50/p99 of
   the answer time. Baseline in the same run: the same receiver with a spool that stores
   nothing (HTTP, signature and parsing only), so the difference is the durable, fsync'd write.
2. Freshness. The demo account (seed 7, 90 days) is synced up to ``--live-days`` before its
   end; the simulator then plays those days forward at about 10 webhook events a second into
   a receiver and its apply worker (debounce 1 s, at most 5 s). For each event: the time from
   the simulated change (the simulator's clock passing it) until its log entry is in the
   published warehouse (a fresh read-only open polls every 0.1 s). p50/p95 over all events.
   Baseline in the same run: the time of one nightly-style incremental ``run_sync`` at the end.
3. ``--big PATH``: the publish cost of one apply on a large warehouse (copy, rebuild of every
   mart, atomic rename), run on a copy of PATH: a floor under freshness at that size.

Prints its figures; ``--quick`` uses fewer deliveries and a shorter live window.
Timings on a shared, loaded machine vary: compare the figures within one run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from etl.live import Receiver, Spool, WebhookSecret, sign  # noqa: E402

SECRET_TEXT = "bench-webhook-secret-0123456789"
SECRET = WebhookSecret(SECRET_TEXT)
PAYLOAD = {
    "event": {
        "id": "",
        "event_type": "incident.acknowledged",
        "resource_type": "incident",
        "occurred_at": "2026-03-01T13:55:30.394Z",
        "agent": {"id": "PJ0LVEB", "type": "user_reference", "summary": "PIG 208"},
        "client": None,
        "data": {
            "id": "PQ1K5C8",
            "type": "incident",
            "self": "https://api.pagerduty.com/incidents/PQ1K5C8",
            "number": 10,
            "status": "acknowledged",
            "title": "Test Incident",
            "service": {"id": "PA2P440", "type": "service_reference", "summary": "pig208"},
            "assignees": [{"id": "PJ0LVEB", "type": "user_reference", "summary": "PIG 208"}],
            "escalation_policy": {"id": "PY82TC6", "type": "escalation_policy_reference"},
            "teams": [],
            "priority": None,
            "urgency": "high",
            "conference_bridge": None,
            "resolve_reason": None,
        },
    }
}


class NullSpool:
    """The baseline: stores nothing (every delivery is new)."""

    def add(self, event, body) -> bool:
        return True


def serve(mode: str, folder: str) -> None:
    """Child process: a receiver on a free port; prints its URL, serves until SIGTERM."""
    spool = Spool(Path(folder) / "spool.sqlite") if mode == "spool" else NullSpool()
    receiver = Receiver(spool, [SECRET], max_threads=64)
    print(receiver.start(), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    receiver.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ingest(mode: str, deliveries: int, clients: int = 8) -> dict:
    folder = tempfile.mkdtemp(prefix="pagerlens-bench-live-")
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode, folder], stdout=subprocess.PIPE, text=True
    )
    host, port = child.stdout.readline().strip().removeprefix("http://").split(":")
    bodies = []
    for i in range(deliveries):
        PAYLOAD["event"]["id"] = f"01BENCH{mode.upper()}{i:08d}"
        bodies.append(json.dumps(PAYLOAD).encode())
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()

    def client(share: list[bytes]) -> None:
        for body in share:
            started = time.perf_counter()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request(
                "POST", "/", body=body, headers={"X-PagerDuty-Signature": sign(body, SECRET)}
            )
            status = connection.getresponse().status
            connection.close()
            with lock:
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=client, args=(bodies[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)
    stored = None
    if mode == "spool":
        with Spool(Path(folder) / "spool.sqlite") as spool:
            stored = len(spool.event_ids())
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "mode": mode,
        "per_second": deliveries / seconds,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "failures": len(failures),
        "stored": stored,
    }


def freshness(live_days: float, rate: float = 10.0, days: int = 90) -> dict:
    from datetime import UTC, datetime

    from etl.cli.simulated import sync_simulated
    from etl.sync import run_sync
    from simulator.account import generate_account
    from simulator.server import SimServer

    end = datetime(2026, 3, 2, tzinfo=UTC)
    account = generate_account(seed=7, days=days, end=end)
    live_start = end - timedelta(days=live_days)
    folder = Path(tempfile.mkdtemp(prefix="pagerlens-bench-fresh-"))
    db = folder / "w.duckdb"
    with SimServer(account, now=live_start) as server:
        started = time.perf_counter()
        sync_simulated(db, server, live_start, rate_per_minute=1e6)
        first_sync = time.perf_counter() - started
        events = _events_in(account, live_start, end)
        speed = rate * live_days * 86400 / max(1, events)
        stats, seen, applies, play_seconds = _play_live(server, db, folder, live_start, speed)
        started = time.perf_counter()
        run_sync(db, api_url=server.url, token=server.token, until=end, rate_per_minute=1e6)
        nightly = time.perf_counter() - started
    lags = [seen[e] - emitted_at for e, (emitted_at, _, _) in stats.emitted.items() if e in seen]
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "incidents": len(account.incidents),
        "events": stats.events,
        "events_per_second": stats.events / play_seconds,
        "duplicates_sent": stats.duplicates_sent,
        "applies": applies,
        "seen": len(lags),
        "p50_s": percentile(lags, 0.50),
        "p95_s": percentile(lags, 0.95),
        "max_s": max(lags),
        "first_sync_s": first_sync,
        "incremental_sync_s": nightly,
    }


def _play_live(server, db: Path, folder: Path, live_start, speed: float):
    """Receiver and worker on ``db``; the simulator plays from ``live_start`` at ``speed``.
    Returns the play's stats, when each event was seen published, applies and seconds."""
    from etl.cli.live import start_listener
    from etl.pd_client import PagerDutyClient, RateLimiter
    from simulator.webhooks import WebhookPlayer

    client = PagerDutyClient(server.token, base_url=server.url, limiter=RateLimiter(1e6))
    listener = start_listener(
        db,
        [SECRET],
        client=client,
        poll_interval=0.5,
        clock=lambda: server.now,
    )
    player = WebhookPlayer(
        server,
        listener.url,
        [SECRET_TEXT],
        speed=speed,
        start=live_start,
        end=server.account.end,
        duplicate_rate=0.2,
        seed=5,
    )
    seen: dict[str, float] = {}
    done = threading.Event()
    poller = threading.Thread(target=_poll_published, args=(db, player, seen, done))
    poller.start()
    play_started = time.perf_counter()
    stats = player.run()
    play_seconds = time.perf_counter() - play_started
    deadline = time.monotonic() + 120
    while len(seen) < len(stats.emitted) and time.monotonic() < deadline:
        time.sleep(0.2)
    done.set()
    poller.join()
    listener.stop()  # also closes the client and the spool
    return stats, seen, listener.worker.session.applies, play_seconds


def _events_in(account, start, end) -> int:
    from simulator.webhooks import EVENT_TYPES

    low, high = start.isoformat()[:19], end.isoformat()[:19]
    return sum(
        1
        for sim in account.incidents
        for entry in sim.log_entries
        if entry["type"] in EVENT_TYPES and low <= entry["created_at"][:19] < high
    )


def _poll_published(db: Path, player, seen: dict[str, float], done: threading.Event) -> None:
    """Record when each emitted event's log entry is first in the published warehouse."""
    import duckdb

    while not done.is_set():
        try:
            waiting = {
                entry: event
                for event, (_, _, entry) in list(player.stats.emitted.items())
                if event not in seen
            }
        except RuntimeError:  # the player added one while we copied
            continue
        if waiting:
            con = duckdb.connect(str(db), read_only=True)
            found = con.execute(
                "select id from raw_log_entries where id in (select unnest($ids))",
                {"ids": list(waiting)},
            ).fetchall()
            con.close()
            now = time.time()
            for (entry_id,) in found:
                seen[waiting[entry_id]] = now
        time.sleep(0.1)


def big_publish(path: Path) -> dict:
    """One apply's fixed cost on a large warehouse: copy, rebuild every mart, rename."""
    from etl.config import load_config
    from etl.transform import build_marts
    from etl.warehouse import building

    folder = Path(tempfile.mkdtemp(prefix="pagerlens-bench-big-", dir=path.parent))
    target = folder / "w.duckdb"
    shutil.copyfile(path, target)
    started = time.perf_counter()
    with building(target) as con:
        copied = time.perf_counter() - started
        build_marts(con, load_config())
        built = time.perf_counter() - started
    total = time.perf_counter() - started
    size = target.stat().st_size
    shutil.rmtree(folder, ignore_errors=True)
    return {"size_gib": size / 2**30, "copy_s": copied, "build_s": built - copied, "total_s": total}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--big", type=Path, default=None, help="a large warehouse to copy")
    args = parser.parse_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    deliveries = 2000 if args.quick else 10000
    print(f"ingest: {deliveries} signed deliveries, 8 clients, a new connection each")
    for mode in ("null", "spool"):
        r = ingest(mode, deliveries)
        label = "baseline (no spool)" if mode == "null" else "spool (WAL, fsync)"
        print(
            f"  {label:<24} {r['per_second']:7.0f} deliveries/s  p50 {r['p50_ms']:5.1f} ms"
            f"  p99 {r['p99_ms']:6.1f} ms  non-2xx {r['failures']}"
            + (f"  stored {r['stored']}" if r["stored"] is not None else ""),
            flush=True,
        )
    live_days = 2.0 if args.quick else 7.0
    print(f"freshness: demo account (seed 7, 90 days), the last {live_days:g} days live, ~10 ev/s")
    f = freshness(live_days)
    print(
        f"  {f['events']} events ({f['duplicates_sent']} sent twice) at "
        f"{f['events_per_second']:.1f}/s over {f['incidents']} incidents; {f['applies']} applies"
    )
    print(
        f"  change -> published: p50 {f['p50_s']:.1f} s  p95 {f['p95_s']:.1f} s  "
        f"max {f['max_s']:.1f} s  ({f['seen']}/{f['events']} seen)"
    )
    print(
        f"  baseline: first full sync {f['first_sync_s']:.1f} s; the nightly incremental "
        f"sync at the end {f['incremental_sync_s']:.1f} s"
    )
    if args.big is not None:
        b = big_publish(args.big)
        print(
            f"publish on {args.big.name} ({b['size_gib']:.1f} GiB): copy {b['copy_s']:.0f} s, "
            f"rebuild {b['build_s']:.0f} s, total {b['total_s']:.0f} s per apply"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
