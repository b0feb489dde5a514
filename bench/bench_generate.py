"""Benchmark `pagerlens simulate generate` (simulator.generate.generate_to_warehouse).

Generates the benchmarks' organisation (seed 7, scale 8, the same end as bench_build) into a
fresh warehouse in a child process, which reports its wall time and the CPU time of itself
and of its worker processes; the load average before and after is printed beside, since the
machine is shared. The baseline, in the same run, is the same account written in-process
(``workers=0``): what the worker processes buy. The rows do not depend on the workers
(tests/simulator/test_generate_bytes.py).

Target (issue 16): the 1M-incident year (``--days 365``) in at most 150 s on 2 idle cores.

    .venv/bin/python bench/bench_generate.py                 # 30 days, workers and in-process
    .venv/bin/python bench/bench_generate.py --quick         # 8 days
    .venv/bin/python bench/bench_generate.py --days 365 --no-baseline   # the full year
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_build import END, SCALE, SEED  # noqa: E402

CHILD = """
import json, os, resource, sys, time
from datetime import datetime
sys.path.insert(0, {repo!r})
from simulator.generate import generate_to_warehouse
if __name__ == "__main__":
    started = time.perf_counter()
    counts = generate_to_warehouse({db!r}, {seed}, {days}, {scale}, end=datetime.fromisoformat({end!r}),
                                   workers={workers})
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({{
        "seconds": seconds,
        "cpu_parent": own.ru_utime + own.ru_stime,
        "cpu_workers": workers.ru_utime + workers.ru_stime,
        "incidents": counts["incidents"], "log_entries": counts["log_entries"],
        "mib": os.path.getsize({db!r}) / 2**20,
        "peak_parent_mib": own.ru_maxrss / 1024,
        "peak_worker_mib": workers.ru_maxrss / 1024,
    }}))
"""


def run(days: int, workers: int | None) -> dict:
    """Generate ``days`` in a child process; its figures and the load around it."""
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        db = str(Path(tmp) / "generated.duckdb")
        code = CHILD.format(
            repo=str(REPO), db=db, seed=SEED, days=days, scale=SCALE, end=END, workers=workers
        )
        script = Path(tmp) / "child.py"  # spawned workers re-import the main module by path
        script.write_text(code, encoding="utf-8")
        load_before = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, str(script)], check=True, capture_output=True, text=True
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
    figures["load"] = (load_before, os.getloadavg()[0])
    return figures


def show(label: str, f: dict) -> None:
    cpu = f["cpu_parent"] + f["cpu_workers"]
    print(
        f"{label:<22} {f['seconds']:7.1f} s wall  {cpu:7.1f} s CPU (parent {f['cpu_parent']:.1f}, "
        f"workers {f['cpu_workers']:.1f})  {f['incidents']:,} incidents, "
        f"{f['log_entries']:,} log entries, {f['mib']:.0f} MiB  "
        f"{1e6 * f['seconds'] / f['incidents']:.0f} us/incident  "
        f"peak RSS parent {f['peak_parent_mib']:,.0f} MiB, largest worker "
        f"{f['peak_worker_mib']:,.0f} MiB  "
        f"load {f['load'][0]:.1f} -> {f['load'][1]:.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30, help="days of history (365: 1M year)")
    parser.add_argument("--quick", action="store_true", help="8 days")
    parser.add_argument("--no-baseline", action="store_true", help="skip the in-process run")
    args = parser.parse_args(argv)
    days = 8 if args.quick else args.days
    print(f"generate_to_warehouse: seed {SEED}, scale {SCALE:g}, {days} days to {END[:10]}")
    parallel = run(days, None)
    show("worker processes", parallel)
    if not args.no_baseline:
        inline = run(days, 0)
        show("baseline: in-process", inline)
        print(f"worker processes / in-process wall: {parallel['seconds'] / inline['seconds']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
