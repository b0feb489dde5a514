"""Benchmark: the pagerlens backfill against a naive per-incident client, same simulator.

The simulated PagerDuty runs with realistic latency (50 ms a request) and PagerDuty's rate
limit (960 requests a minute, a token bucket that starts full). Three measurements, each
client in its own process (so peak RSS is that client's), each against a fresh server:

1. pagerlens: ``run_sync`` backfilling ``--days`` of the default account (no marts: this times
   the ETL, not the SQL models); again over four times the history, to show that peak memory
   does not grow with history.
2. naive: what a user writes with the same client: ``iter_all('/incidents')``, then one
   ``/incidents/{id}/log_entries`` and one ``/incidents/{id}/alerts`` call per incident,
   sequentially, everything in lists, written to DuckDB at the end.
3. pagerlens, rate-bound: the same sync after the account's minute budget has been spent by
   someone else, so the rate limit is what binds; compared with the floor
   ``requests / (960 / 60 s)``.

Prints one table and exits 0. ``--quick`` uses 14 days; ``--naive-days`` measures the naive
client on a shorter history and extrapolates linearly per incident (labelled as such).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulator.account import generate_account  # noqa: E402
from simulator.server import SimServer  # noqa: E402

LATENCY_MS = 50
RATE_PER_MINUTE = 960

PAGERLENS_CHILD = """
import json, os, sys
from concurrent.futures import ThreadPoolExecutor
import httpx2
from etl.sync import run_sync
if sys.argv[6] == "drain":
    # Spend the account's budget right before the sync (as another integration sharing the
    # key would): keep requesting until the server answers 429, i.e. the bucket is empty.
    http = httpx2.Client(headers={"Authorization": "Token token=" + os.environ["PAGERDUTY_API_TOKEN"]})
    def spend(_):
        return http.get(sys.argv[2] + "/priorities").status_code
    with ThreadPoolExecutor(16) as pool:
        while 429 not in set(pool.map(spend, range(64))):
            pass
    http.close()
summary = run_sync(sys.argv[1], api_url=sys.argv[2], token=os.environ["PAGERDUTY_API_TOKEN"],
                   since=sys.argv[3], until=sys.argv[4], full=True, build=False,
                   workers=int(sys.argv[5]))
print(json.dumps({"requests": summary.requests, "retries": summary.retries,
                  "records": summary.records, "alert_incidents": summary.alert_incidents,
                  "splits": summary.splits, "seconds": summary.duration_seconds}))
"""

NAIVE_CHILD = """
import json, os, sys, time
import duckdb
from etl.pd_client import PagerDutyClient
started = time.perf_counter()
client = PagerDutyClient(os.environ["PAGERDUTY_API_TOKEN"], base_url=sys.argv[2])
incidents, entries, alerts = [], [], []
for incident in client.iter_all("/incidents", params={"since": sys.argv[3], "until": sys.argv[4]}):
    incidents.append(incident)
for incident in incidents:
    entries.extend(client.iter_all(f"/incidents/{incident['id']}/log_entries"))
    alerts.extend(client.iter_all(f"/incidents/{incident['id']}/alerts"))
con = duckdb.connect(sys.argv[1])
for name, rows in (("incidents", incidents), ("log_entries", entries), ("alerts", alerts)):
    con.execute(f"create table {name} (id varchar, payload json)")
    con.executemany(f"insert into {name} values (?, ?)", [(r["id"], json.dumps(r)) for r in rows])
con.close()
print(json.dumps({"seconds": time.perf_counter() - started,
                  "requests": client.stats()["requests"], "retries": client.stats()["retries"],
                  "records": {"incidents": len(incidents), "log_entries": len(entries),
                              "alerts": len(alerts)}}))
"""


def run_child(script: str, args: list[str], token: str) -> dict:
    """Run a client in a child process; returns its JSON line, wall time and peak RSS."""
    env = dict(os.environ, PAGERDUTY_API_TOKEN=token, PYTHONPATH=str(REPO))
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"child failed ({child.returncode}):\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    return result


def run_measured(script: str, args: list[str], token: str) -> dict:
    """``run_child`` through a wrapper whose only child is the client, so the wrapper's
    ``RUSAGE_CHILDREN`` peak RSS is the client's own (the server stays in this process)."""
    wrapper = f"""
import resource, subprocess, sys, json, os, time
started = time.perf_counter()
p = subprocess.run([sys.executable, "-c", {script!r}, *sys.argv[1:]], capture_output=True, text=True)
wall = time.perf_counter() - started
if p.returncode:
    sys.stderr.write(p.stderr); sys.exit(p.returncode)
out = json.loads(p.stdout.strip().splitlines()[-1])
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
out["wall_seconds"] = wall
print(json.dumps(out))
"""
    result = run_child(wrapper, args, token)
    return result


def _measure(args, account, long_account, naive_since: str) -> dict:
    """Run each client in a child process against its own simulated server."""
    since, until = account.start.isoformat(), account.end.isoformat()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("pagerlens", "pagerlens-4x", "naive", "rate-bound"):
            if name == "rate-bound" and args.no_rate_bound:
                continue
            served = long_account if name == "pagerlens-4x" else account
            with SimServer(
                served, latency_ms=LATENCY_MS, rate_per_minute=RATE_PER_MINUTE
            ) as server:
                db = str(Path(tmp) / f"{name}.duckdb")
                print(f"measuring {name} ...", flush=True)
                if name == "naive":
                    results[name] = run_measured(
                        NAIVE_CHILD, [db, server.url, naive_since, until], server.token
                    )
                    continue
                start = long_account.start.isoformat() if name == "pagerlens-4x" else since
                drain = "drain" if name == "rate-bound" else "-"
                results[name] = run_measured(
                    PAGERLENS_CHILD,
                    [db, server.url, start, until, str(args.workers), drain],
                    server.token,
                )
                # What the server saw (the drain's /priorities requests are not the sync's).
                endpoints = Counter(
                    "/incidents/{id}/alerts" if r.path.endswith("/alerts") else r.path
                    for r in server.request_log
                )
                if drain == "drain":
                    endpoints.pop("/priorities", None)
                results[name]["by_endpoint"] = dict(sorted(endpoints.items()))

    return results


def _report(results, days, incidents, naive_days, naive_incidents, long_days, long_account):
    """Print the comparison against the naive baseline and the targets."""
    rate = RATE_PER_MINUTE / 60.0
    ours, naive = results["pagerlens"], results["naive"]
    scale = incidents / max(1, naive_incidents)
    naive_seconds = naive["seconds"] * scale
    naive_requests = naive["requests"] * scale
    extrapolated = naive_days != days
    print()
    print(
        f"simulated PagerDuty: {LATENCY_MS} ms latency, {RATE_PER_MINUTE} requests/min "
        f"(token bucket of {RATE_PER_MINUTE}, starts full); {days} days, {incidents} incidents"
    )
    print("time: inside the client (sync or naive loop, warehouse writes included); process:")
    print("the same plus interpreter start-up and imports; RSS: the client process's peak")
    header = (
        f"{'client':<12}{'requests':>10}{'req/inc':>9}{'time s':>9}{'process s':>11}{'RSS MB':>8}"
    )
    print(header)
    print(
        f"{'pagerlens':<12}{ours['requests']:>10}{ours['requests'] / incidents:>9.3f}"
        f"{ours['seconds']:>9.1f}{ours['wall_seconds']:>11.1f}{ours['peak_rss_mb']:>8.0f}"
    )
    print(
        f"{'naive' + ('*' if extrapolated else ''):<12}{naive_requests:>10.0f}"
        f"{naive_requests / incidents:>9.3f}{naive_seconds:>9.1f}"
        f"{naive['wall_seconds'] * scale:>11.1f}{naive['peak_rss_mb']:>8.0f}"
    )
    if extrapolated:
        print(
            f"  * extrapolated per incident from a measurement on {naive_days} days: "
            f"{naive['requests']} requests, {naive['seconds']:.1f} s, {naive_incidents} incidents"
        )
    print(
        f"speed-up: {naive_seconds / ours['seconds']:.1f}x in-client, "
        f"{naive['wall_seconds'] * scale / ours['wall_seconds']:.1f}x by process (target >= 10x); "
        f"requests per incident {ours['requests'] / incidents:.3f} (target < 0.3)"
    )
    print(
        f"rate-limit floor at {rate:.0f} requests/s: {ours['requests'] / rate:.1f} s for "
        f"{ours['requests']} requests (a full bucket lets the first {RATE_PER_MINUTE} through "
        "at once, so an unthrottled account beats it)"
    )
    print(
        "pagerlens requests by endpoint: "
        + ", ".join(f"{path} {count}" for path, count in ours["by_endpoint"].items())
    )
    long = results["pagerlens-4x"]
    print(
        f"memory vs history: peak RSS {ours['peak_rss_mb']:.0f} MB for {days} days "
        f"({ours['requests']} requests), {long['peak_rss_mb']:.0f} MB for {long_days} days "
        f"({long['requests']} requests, {len(long_account.incidents)} incidents, "
        f"{long['seconds']:.1f} s)"
    )
    if "rate-bound" in results:
        bound = results["rate-bound"]
        floor = bound["requests"] / rate
        print(
            f"rate-bound (bucket emptied just before the sync): {bound['requests']} requests in "
            f"{bound['seconds']:.1f} s, floor {floor:.1f} s -> {bound['seconds'] / floor:.2f}x "
            "the floor (target <= 1.5x)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--quick", action="store_true", help="14 days instead of 90")
    parser.add_argument(
        "--naive-days",
        type=int,
        default=None,
        help="history for the naive client (default: --days)",
    )
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-rate-bound",
        action="store_true",
        help="skip the third measurement (rate limit binding)",
    )
    args = parser.parse_args(argv)
    days = 14 if args.quick else args.days
    naive_days = min(days, args.naive_days or days)
    end = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, as every benchmark: same account any day

    print(f"generating the default account: seed {args.seed}, {days} days ...", flush=True)
    account = generate_account(seed=args.seed, days=days, end=end)
    incidents = len(account.incidents)
    naive_since = (end - timedelta(days=naive_days)).isoformat()
    # The same sync over four times the history: peak RSS must not grow with it.
    long_days = 4 * days
    long_account = generate_account(seed=args.seed, days=long_days, end=end)
    naive_incidents = sum(
        1
        for sim in account.incidents
        if datetime.fromisoformat(sim.incident["created_at"]) >= end - timedelta(days=naive_days)
    )

    results = _measure(args, account, long_account, naive_since)
    _report(results, days, incidents, naive_days, naive_incidents, long_days, long_account)
    print(json.dumps({"days": days, "incidents": incidents, **results}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
