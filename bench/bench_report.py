"""Benchmark `pagerlens report` (reports.write_report) on the default simulated account.

Builds the warehouse once with the real pipeline: the simulator's default account (seed 7,
``--days`` of history, scale 1) written to the raw tables by ``generate_to_warehouse`` and
``etl.transform.build`` (the benchmark never imports ``tests``). Then it times full reports (PDF, CSV and
Parquet) in fresh child processes, so every run pays the imports and the Chromium start a user
pays, and prints the phases of one in-process run (read, chart export, PDF, tables).

Target (docs/benchmarks.md): a report in under 15 s on 2 cores.

    .venv/bin/python bench/bench_report.py              # 90 days, 3 runs
    .venv/bin/python bench/bench_report.py --quick      # 42 days, 1 run
    .venv/bin/python bench/bench_report.py --db pagerlens.duckdb   # an existing warehouse
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The simulated history ends on a fixed day, so the benchmark measures the same account any day.
END = "2026-01-01T00:00:00+00:00"
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 15.0

CHILD = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {repo!r})
from reports.weekly import write_report
imported = time.perf_counter()
paths = write_report({db!r}, out_dir={out!r}, formats=("pdf", "csv", "parquet"))
done = time.perf_counter()
print(json.dumps({{"seconds": done - started, "import_seconds": imported - started,
                   "files": len(paths), "pdf_bytes": paths[0].stat().st_size}}))
"""


def build_simulated(path: Path, days: int) -> str:
    """The default simulated account through the real pipeline; returns a description."""
    from etl.config import DEFAULTS_PATH, load_config
    from etl.transform import build
    from simulator.generate import generate_to_warehouse

    started = time.perf_counter()
    generate_to_warehouse(path, seed=7, days=days, scale=1.0, end=datetime.fromisoformat(END))
    build(path, load_config(DEFAULTS_PATH))
    return (
        f"simulated default account (seed 7, {days} days to {END[:10]}, scale 1) via generate_to_warehouse"
        f" + build, {time.perf_counter() - started:.1f} s to build"
    )


def phases(db: Path, out: Path) -> dict[str, float]:
    """One in-process run split into its phases (after imports)."""
    from reports import weekly
    from reports.render import figures_to_svg, html_to_pdf, render_html

    timings: dict[str, float] = {}
    t = time.perf_counter()
    data = weekly.collect(db)
    timings["read (collect)"] = time.perf_counter() - t
    t = time.perf_counter()
    specs = weekly.pdf._charts(data)
    svgs = dict(zip(specs, figures_to_svg(list(specs.values())), strict=True))
    svgs.update(weekly.pdf._sparklines(data))
    timings[f"chart export ({len(specs)} SVGs, one browser)"] = time.perf_counter() - t
    t = time.perf_counter()
    html = render_html("weekly.html", weekly.html._context(data, svgs))
    html_to_pdf(html, out / "phases.pdf")
    timings["template + WeasyPrint PDF"] = time.perf_counter() - t
    t = time.perf_counter()
    for name, frame in weekly.tables(data).items():
        frame.to_csv(out / f"phases-{name}.csv", index=False)
        frame.to_parquet(out / f"phases-{name}.parquet", index=False)
    timings["tables (CSV + Parquet)"] = time.perf_counter() - t
    timings["incidents in the week"] = float(data.incident_count)
    return timings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="42 days, one run")
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="report on this existing warehouse instead of building one",
    )
    args = parser.parse_args(argv)
    days = args.days or (42 if args.quick else 90)
    runs = args.runs or (1 if args.quick else 3)

    work = Path(tempfile.mkdtemp(prefix="pagerlens-bench-report-"))
    db = work / "pagerlens.duckdb"
    if args.db:
        db, source = args.db, f"the existing warehouse {args.db}"
    else:
        source = build_simulated(db, days)
    print(f"warehouse: {source}", flush=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)

    results = []
    for run in range(runs):
        out = work / f"out-{run}"
        child = CHILD.format(repo=str(REPO), db=str(db), out=str(out))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        # CPU of the whole tree (Python, Chromium and its helpers, all reaped): unlike wall
        # time it barely moves when other jobs share the machine.
        result["cpu_seconds"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        results.append(result)
        print(
            f"run {run + 1}: {result['seconds']:.2f} s end to end (imports "
            f"{result['import_seconds']:.2f} s), {result['cpu_seconds']:.2f} CPU-s (tree), "
            f"{result['files']} files, PDF "
            f"{result['pdf_bytes'] / 1024:.0f} KiB",
            flush=True,
        )
    median = statistics.median(r["seconds"] for r in results)
    cpu = statistics.median(r["cpu_seconds"] for r in results)
    print(
        f"median of {runs}: {median:.2f} s wall, {cpu:.2f} CPU-s  (target < "
        f"{TARGET_SECONDS:.0f} s wall: {'met' if median < TARGET_SECONDS else 'MISSED'}; "
        f"load average now {os.getloadavg()[0]:.1f})"
    )

    print("phases of one in-process run:")
    for name, value in phases(db, work).items():
        unit = "" if name.startswith("incidents") else " s"
        print(f"  {name:<44} {value:8.2f}{unit}")
    print(f"outputs kept in {work}")
    return 0 if median < TARGET_SECONDS else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
