"""Benchmark the nightly build: one and two days of changes built incrementally vs a full build.

On a copy of bench_build.py's cached warehouse (100k and 1M incidents, seed 7, scale 8) it
runs, each in a fresh child process reporting its wall time, CPU time and peak RSS:

1. a full build (``pagerlens build --full``): the baseline, and the state later builds reuse;
2. one simulated day of changes written into the raw layer, then ``build`` (incremental);
3. two more days of changes, then ``build`` (incremental): should cost at most 1.3x step 2.

A day of changes is the volume a scale-8 day brings (bench_export.py: 2,700 incidents, 24,000
log entries): that many existing incidents fetched again (a later ``fetched_at``, as the sync's
``include[]=incidents`` does for the incidents a new log entry touches) and that many new notify
log entries, copies of existing ones under new ids. They are written in SQL, not by a sync
against the simulator (a year at scale 8 is not served over HTTP here), so the figures are the
build's and the publish's, not the API's; the write is timed and printed on its own.

``--recent`` draws the day's incidents from the last week's instead of the whole history's: a
real day changes today's incidents and recent ones, so most weeks are left alone, which is what
the models keyed by week (``int_group_weekly``, ``incident_weekly_by_dimension``) skip.

``--verify`` then rebuilds a copy of the final state with ``--full`` and compares every table
row for row (bench/compare_marts.py's rule): the incremental build must equal it.

    .venv/bin/python bench/bench_nightly.py [--quick] [--verify] [--recent] [--warehouse 1M=PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_build import SIZES, warehouse  # noqa: E402
from bench.bench_export import DAY_INCIDENTS, DAY_LOG_ENTRIES  # noqa: E402  # a scale-8 day

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from etl.config import load_config, DEFAULTS_PATH
from etl.transform import build
started = time.perf_counter()
summary = build({db!r}, load_config(DEFAULTS_PATH), threads=2, full={full}, memory_limit={memory!r})
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{
    "seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "changed": {{r.name: r.changed for r in summary.runs if r.changed is not None}},
    "staging_seconds": sum(r.seconds for r in summary.runs if r.layer == "staging"),
    "marts_seconds": sum(r.seconds for r in summary.runs if r.layer == "marts"),
    "noise_seconds": sum(r.seconds for r in summary.runs if r.layer == "noise"),
    "slowest": [[r.name, round(r.seconds, 2)]
                for r in sorted(summary.runs, key=lambda r: r.seconds, reverse=True)[:6]],
    "incremental": [[r.name, round(r.seconds, 2)] for r in summary.runs if r.changed is not None],
    "noise_steps": {{k: round(v, 2) for k, v in (summary.noise or {{}}).get("seconds", {{}}).items()}},
}}))
"""

CHANGES = """
import sys, time
sys.path.insert(0, {repo!r})
from datetime import timedelta
from etl.warehouse import building
started = time.perf_counter()
with building({db!r}) as con:
    later = con.execute("select max(fetched_at) from raw_incidents").fetchall()[0][0]
    later += timedelta(days={day})
    # The day's incidents: fetched again (new ones and late acknowledgements, resolutions).
    con.execute(
        "create temp table day_incidents as select id from raw_incidents"
        " where id in (select incident_id from stg_incidents where {incidents_of})"
        " order by hash(id, {day}) limit ?",
        [{incidents}],
    )
    con.execute(
        "update raw_incidents set fetched_at = ? where id in (select id from day_incidents)",
        [later],
    )
    # The day's log entries: copies, under new ids, of entries of the day's incidents (or,
    # --scattered, of notifications of any incident: each touches another old incident),
    # created during the day (log entries are written when things happen, whatever the
    # incident's age).
    con.execute(
        "insert into raw_log_entries select 'day{day}-' || id, json_merge_patch(payload,"
        " json_object('created_at', strftime(cast(? as timestamp)"
        " - to_seconds(hash(id, {day}) % 86400), '%Y-%m-%dT%H:%M:%SZ'))), ?"
        " from raw_log_entries where id in (select log_entry_id from stg_log_entries"
        " where {entries_of} order by hash(log_entry_id, {day}) limit ?)",
        [later, later, {entries}],
    )
print(time.perf_counter() - started)
"""


def child(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"child failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


# DuckDB's limit for the SQL models: as `pagerlens build` and `sync` choose it (3 GB from
# scratch, 1.5 GB for a build that continues the last one: etl.transform.AUTO).
MEMORY_LIMIT = "auto"


def run_build(db: Path, full: bool, memory: str = MEMORY_LIMIT) -> dict:
    code = CHILD.format(repo=str(REPO), db=str(db), full=full, memory=memory)
    return json.loads(child(code))


# Which entries a day's new log entries copy: the day's incidents' (a real day: each new or
# changed incident gets its entries) or any incident's notifications (the worst case for the
# models keyed by incident: 24,000 entries touch ~24,000 incidents).
DAY_ENTRIES_OF = {
    "concentrated": "incident_id in (select id from day_incidents)",
    "scattered": "entry_type = 'notify_log_entry'",
}


# Which incidents a day fetches again: any of the history (the default, and the worst case for
# the models keyed by week: every week has a changed incident), or those of the last week (a
# real day: today's incidents and late acknowledgements and resolutions of recent ones).
DAY_INCIDENTS_OF = {
    "any": "true",
    "recent": "created_at >= (select max(created_at) from stg_incidents) - interval 7 days",
}


def add_days(
    db: Path, first_day: int, days: int, scenario: str = "concentrated", incidents: str = "any"
) -> float:
    """Write ``days`` days of changes (numbered from ``first_day``); the seconds it took."""
    seconds = 0.0
    for day in range(first_day, first_day + days):
        code = CHANGES.format(
            repo=str(REPO),
            db=str(db),
            day=day,
            entries=DAY_LOG_ENTRIES,
            incidents=DAY_INCIDENTS,
            entries_of=DAY_ENTRIES_OF[scenario],
            incidents_of=DAY_INCIDENTS_OF[incidents],
        )
        seconds += float(child(code))
    return seconds


def line(label: str, name: str, result: dict) -> str:
    return (
        f"[{label}] {name:<24} {result['seconds']:6.1f} s wall, {result['cpu_seconds']:6.1f} s CPU,"
        f" peak RSS {result['peak_rss_mib']:5.0f} MiB; staging {result['staging_seconds']:.1f} s,"
        f" marts {result['marts_seconds']:.1f} s, noise {result['noise_seconds']:.1f} s;"
        f" recomputed (raw rows, keys) {result['changed'] or 'all'};"
        f" incremental models {result['incremental'] or '-'}; slowest {result['slowest']};"
        f" noise steps {result['noise_steps']}"
    )


# The build log, the models' fingerprints (with their build times) and how many times each model
# was built: what a full rebuild of the copy writes differently, by design.
BOOKKEEPING = ("_build_runs", "_incremental_models", "_incremental_versions", "_incremental_inputs")


def verify(label: str, db: Path, scratch: Path) -> None:
    from bench.compare_marts import compare

    full = scratch / "full.duckdb"
    shutil.copyfile(db, full)
    run_build(full, full=True)
    # The raw tables are the same file's in both (the build never writes them); comparing
    # 12.9 GB of JSON twice is what would cost the time and the memory here.
    verdicts = compare(db, full, skip=("raw_",))
    # The build log and the models' fingerprints carry the build's own times.
    differing = [
        (table, verdict)
        for table, verdict in verdicts
        if not verdict.startswith("equal") and table not in BOOKKEEPING
    ]
    print(
        f"[{label}] incremental vs full rebuild, {len(verdicts)} tables (raw_ left out): "
        f"{differing or 'every table equal'}",
        flush=True,
    )
    if differing:
        raise RuntimeError(f"the incremental build differs from the full one: {differing}")


def measure(
    label: str,
    source: Path,
    scratch: Path,
    check: bool,
    memory: str,
    scenario: str,
    incidents: str = "any",
) -> None:
    from etl.warehouse import copy_method

    db = scratch / "nightly.duckdb"
    shutil.copyfile(source, db)
    print(f"[{label}] the build's private copy in {scratch}: {copy_method(scratch)}", flush=True)
    full = run_build(db, full=True, memory=memory)
    print(line(label, "full build", full), flush=True)
    print(
        f"[{label}] a day's new log entries: {scenario} (DAY_ENTRIES_OF); its incidents: "
        f"{incidents} (DAY_INCIDENTS_OF)",
        flush=True,
    )
    written = add_days(db, 1, 1, scenario, incidents)
    one = run_build(db, full=False, memory=memory)
    print(f"[{label}] one day of changes written in {written:.1f} s", flush=True)
    print(line(label, "nightly, 1 day", one), flush=True)
    written = add_days(db, 2, 2, scenario, incidents)
    two = run_build(db, full=False, memory=memory)
    print(f"[{label}] two days of changes written in {written:.1f} s", flush=True)
    print(line(label, "nightly, 2 days", two), flush=True)
    print(
        f"[{label}] nightly 1 day {one['seconds']:.1f} s = {one['seconds'] / full['seconds']:.2f}x"
        f" the full build (issue 16 target <= 15 s at 1M); 2 days / 1 day"
        f" {two['seconds'] / one['seconds']:.2f}x (target <= 1.3x); peak"
        f" {max(one['peak_rss_mib'], two['peak_rss_mib']) / 1024:.2f} GiB (target <= 2 GB)",
        flush=True,
    )
    if check:
        verify(label, db, scratch)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 100k size only")
    parser.add_argument("--verify", action="store_true", help="compare with a full rebuild")
    parser.add_argument("--warehouse", action="append", default=[], metavar="SIZE=PATH")
    parser.add_argument("--memory-limit", default=MEMORY_LIMIT, help="DuckDB's, for the models")
    parser.add_argument(
        "--scattered",
        action="store_true",
        help="a day's new log entries on any old incident (the worst case), not the day's own",
    )
    parser.add_argument(
        "--recent",
        action="store_true",
        help="a day's incidents among the last week's (a real day), not any of the history",
    )
    parser.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="where the measured warehouse lives (its filesystem decides clone or copy)",
    )
    args = parser.parse_args(argv)
    given = dict(value.partition("=")[::2] for value in args.warehouse)
    sizes = {"100k": SIZES["100k"]} if args.quick else SIZES
    if given:
        sizes = {label: days for label, days in SIZES.items() if label in given}
    for label, days in sizes.items():
        source = Path(given[label]) if label in given else warehouse(label, days, synthetic=False)
        scratch = Path(tempfile.mkdtemp(prefix=f"pagerlens-nightly-{label}-", dir=args.scratch))
        try:
            scenario = "scattered" if args.scattered else "concentrated"
            incidents = "recent" if args.recent else "any"
            measure(label, source, scratch, args.verify, args.memory_limit, scenario, incidents)
        finally:
            shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
