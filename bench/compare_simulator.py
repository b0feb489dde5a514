"""Check that the simulated PagerDuty still produces byte-identical accounts.

Prints the digest of several accounts (``account_digest``: everything an account serves and
plants), of the HTTP server's answers to a fixed list of requests, and of the raw tables
``generate_to_warehouse`` writes for a small account (every raw table ordered by id,
in-process and with two worker processes, plus the ground truth file), then compares them with ``bench/compare_simulator.json``. A refactoring of the simulator must
leave every digest unchanged; a change that alters the account on purpose records new digests
with ``--write`` and says so in its commit.

Example::

    .venv/bin/python bench/compare_simulator.py            # compare, exit 1 on a difference
    .venv/bin/python bench/compare_simulator.py --write    # record the current digests
    .venv/bin/python bench/compare_simulator.py --only accounts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXPECTED = Path(__file__).with_name("compare_simulator.json")

# (seed, days, scale, end): winter, across the EU/US summer-time changes, high summer, and a
# large organisation over a short window.
ACCOUNTS: tuple[tuple[int, int, float, datetime], ...] = (
    (7, 90, 1, datetime(2026, 3, 2, tzinfo=UTC)),
    (11, 42, 2, datetime(2026, 11, 23, tzinfo=UTC)),
    (23, 21, 4, datetime(2026, 7, 13, tzinfo=UTC)),
    (3, 7, 8, datetime(2026, 1, 1, tzinfo=UTC)),
)
# (seed, days, scale, end, workers) for generate_to_warehouse.
WAREHOUSES: tuple[tuple[int, int, float, datetime, int], ...] = (
    (9, 4, 1.5, datetime(2026, 5, 11, tzinfo=UTC), 0),
    (9, 4, 1.5, datetime(2026, 5, 11, tzinfo=UTC), 2),
)


def _modules():
    """The simulator's account and generator modules."""
    from simulator import account, generate

    return account, generate


def account_digests() -> dict[str, str]:
    account_module, _ = _modules()
    out = {}
    for seed, days, scale, end in ACCOUNTS:
        started = time.monotonic()
        account = account_module.generate_account(seed=seed, days=days, scale=scale, end=end)
        key = f"account seed={seed} days={days} scale={scale:g} end={end.date()}"
        out[key] = account_module.account_digest(account)
        print(f"{key}: {out[key]} ({time.monotonic() - started:.1f} s)", flush=True)
    return out


def warehouse_digest(db_path: Path) -> str:
    """SHA-256 over every raw table (id, payload, fetched_at ordered by id) and the truth file."""
    import duckdb

    from etl.warehouse import RAW_RESOURCES

    h = hashlib.sha256()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        for resource in RAW_RESOURCES:
            table = f"raw_{resource}"
            rows = con.execute(
                f"select id, payload::varchar, fetched_at from {table} order by id"  # noqa: S608
            ).fetchall()
            h.update(f"{table} {len(rows)}\n".encode())
            for row_id, payload, fetched_at in rows:
                h.update(f"{row_id}\t{payload}\t{fetched_at.isoformat()}\n".encode())
    finally:
        con.close()
    truth = db_path.with_name(db_path.name + ".ground_truth.json")
    h.update(truth.read_bytes())
    return h.hexdigest()


def warehouse_digests() -> dict[str, str]:
    _, generate_module = _modules()
    out = {}
    for seed, days, scale, end, workers in WAREHOUSES:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="compare-sim-") as tmp:
            db = Path(tmp) / "w.duckdb"
            generate_module.generate_to_warehouse(
                db, seed=seed, days=days, scale=scale, end=end, workers=workers
            )
            key = f"warehouse seed={seed} days={days} scale={scale:g} end={end.date()}"
            digest = warehouse_digest(db)
        print(f"{key} workers={workers}: {digest} ({time.monotonic() - started:.1f} s)")
        # The rows must not depend on the number of workers: one key for all of them.
        if key in out and out[key] != digest:
            raise SystemExit(f"{key}: rows differ between worker counts")
        out[key] = digest
    return out


# Requests whose answers must stay byte-identical (status and body) when the server is
# refactored; the account is seed 7, 14 days to 2026-03-02 (the tests' session account).
SERVER_REQUESTS: tuple[str, ...] = (
    "/incidents",
    "/incidents?limit=100&offset=25&total=true&include[]=services&include[]=teams",
    "/incidents?date_range=all&statuses[]=resolved&sort_by=urgency:desc&sort_by=resolved_at",
    "/incidents?since=2026-02-20&until=2026-02-25&time_zone=Europe/Paris"
    "&include[]=assignees&include[]=acknowledgers&include[]=first_trigger_log_entries"
    "&include[]=escalation_policies&include[]=priorities",
    "/incidents?user_ids[]=nobody&urgencies[]=low",
    "/incidents?since=2025-01-01",
    "/log_entries?limit=100&include[]=incidents&include[]=channels",
    "/log_entries?is_overview=true&offset=100&limit=50&time_zone=Asia/Kolkata",
    "/oncalls?since=2026-02-01&until=2026-02-10&earliest=true",
    "/oncalls",
    "/services?include[]=nothing&query=api",
    "/users?include[]=contact_methods&limit=7",
    "/teams",
    "/escalation_policies",
    "/schedules?total=true",
    "/priorities",
    "/nothing",
    "/incidents?limit=100&offset=9950",
)


def server_digest() -> dict[str, str]:
    """Digest of the answers to SERVER_REQUESTS, plus one incident's own endpoints."""
    import httpx2 as httpx

    account_module, _ = _modules()
    from simulator.server import SimServer

    end = datetime(2026, 3, 2, tzinfo=UTC)
    account = account_module.generate_account(seed=7, days=14, end=end)
    incident_id = account.incidents[len(account.incidents) // 2].id
    paths = SERVER_REQUESTS + (
        f"/incidents/{incident_id}?include[]=services",
        f"/incidents/{incident_id}/log_entries?include[]=channels",
        f"/incidents/{incident_id}/alerts",
        f"/users/{account.users[3]['id']}",
    )
    h = hashlib.sha256()
    with SimServer(account) as server:
        headers = {"Authorization": f"Token token={server.token}"}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            for path in paths:
                response = client.get(path)
                h.update(f"{path} {response.status_code}\n".encode())
                h.update(response.content + b"\n")
    key = "server seed=7 days=14 scale=1 end=2026-03-02"
    print(f"{key}: {h.hexdigest()}")
    return {key: h.hexdigest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="record the digests as expected")
    parser.add_argument(
        "--only", choices=("accounts", "warehouses", "server"), help="one half only"
    )
    parser.add_argument("--expected", type=Path, default=EXPECTED, help="expected digests JSON")
    args = parser.parse_args(argv)

    found: dict[str, str] = {}
    if args.only in (None, "accounts"):
        found.update(account_digests())
    if args.only in (None, "warehouses"):
        found.update(warehouse_digests())
    if args.only in (None, "server"):
        found.update(server_digest())
    if args.write:
        expected = json.loads(args.expected.read_text()) if args.expected.exists() else {}
        expected.update(found)
        args.expected.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(found)} digests to {args.expected}")
        return 0
    expected = json.loads(args.expected.read_text())
    differ = {k: v for k, v in found.items() if expected.get(k) != v}
    for key in differ:
        print(f"DIFFERENT {key}: expected {expected.get(key)}, found {found[key]}")
    print(f"{len(found) - len(differ)} of {len(found)} digests unchanged")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
