"""Benchmark `pagerlens build` (etl.transform.build) at two sizes and report the growth.

Generates two warehouses with the simulator's scale writer (`generate_to_warehouse`): the same
200-service organisation (scale 8) over ~37 days (about 100k incidents) and over a year
(about 1M incidents, 10M log entries). Generated files are cached in a directory
(``PAGERLENS_BENCH_DIR``, default ``$TMPDIR/pagerlens-bench``) and reused by later runs.
Each build runs in a fresh child process, which reports its own wall time and peak RSS. Every
build here is a full one (``full=True``): the cached file keeps the state of its last build,
and an incremental build of unchanged raw rows would skip the staging parse
(bench/bench_nightly.py measures the incremental build).

Targets (docs/benchmarks.md): the 1M build under 60 s and 4 GB peak on 2 cores, and at most
12x the 100k build.

    .venv/bin/python bench/bench_build.py            # 100k and 1M
    .venv/bin/python bench/bench_build.py --quick    # 100k only
    .venv/bin/python bench/bench_build.py --synthetic  # without the simulator (SQL-made data)
    .venv/bin/python bench/bench_build.py --warehouse 1M=PATH  # an existing raw warehouse

``--warehouse SIZE=PATH`` builds the given file as that size and skips the cache: to measure
before and after a change on one account while the simulator (and so the cache's file names)
changes beside you. Given at all, only the sizes it names run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import cached_warehouse  # noqa: E402

SEED = 7
SCALE = 8.0
SIZES = {"100k": 37, "1M": 365}  # days of the scale-8 organisation
END = "2026-01-01T00:00:00+00:00"

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from etl.config import load_config, DEFAULTS_PATH
from etl.transform import build
started = time.perf_counter()
if {noise}:
    summary = build({db!r}, load_config(DEFAULTS_PATH), threads={threads}, memory_limit={memory!r},
                    full=True)
else:
    # The SQL models and checks alone, published atomically like `build`.
    from etl.transform import build_marts
    from etl.warehouse import building
    with building({db!r}) as con:
        summary = build_marts(con, load_config(DEFAULTS_PATH), threads={threads},
                              memory_limit={memory!r}, noise=False, full=True)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
rss_kib = usage.ru_maxrss
slowest = sorted(summary.runs, key=lambda r: r.seconds, reverse=True)[:6]
print(json.dumps({{
    "seconds": seconds, "peak_rss_mib": rss_kib / 1024,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "incidents": summary.rows("incidents"), "log_entries": summary.rows("stg_log_entries"),
    "slowest": [[r.name, round(r.seconds, 2)] for r in slowest],
    "models_seconds": sum(r.seconds for r in summary.runs if r.layer in ("staging", "marts")),
    "noise_seconds": sum(r.seconds for r in summary.runs if r.layer == "noise"),
    "checks_seconds": sum(r.seconds for r in summary.runs if r.layer == "checks"),
    "noise_steps": summary.noise["seconds"] if summary.noise else None,
}}))
"""


def warehouse(label: str, days: int, synthetic: bool) -> Path:
    """The cached raw warehouse for a size, generated on first use."""

    def generate(path: Path) -> None:
        if synthetic:
            write_synthetic(path, incidents=int(days * 1e6 / 365))
        else:
            from datetime import datetime

            from simulator.generate import generate_to_warehouse

            generate_to_warehouse(path, SEED, days, SCALE, end=datetime.fromisoformat(END))

    kind = "synthetic" if synthetic else "sim"
    return cached_warehouse(
        f"{kind}-seed{SEED}-scale{SCALE:g}-days{days}.duckdb",
        generate,
        prefix=f"[{label}] ",
        making="generating {path} ...",
        made="generated",
    )


def run_build(db: Path, threads: int, memory: str, noise: bool = True) -> dict:
    code = CHILD.format(repo=str(REPO), db=str(db), threads=threads, memory=memory, noise=noise)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"build failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_synthetic(path: Path, incidents: int) -> None:
    """Fallback raw data made in SQL: 200 services, 400 users, ~10 log entries an incident.

    Used only with --synthetic (or when the simulator's generator is missing); the shapes are
    the REST API's, the distributions crude.
    """
    from etl.warehouse import building

    with building(path) as con:
        con.execute("set preserve_insertion_order = false")
        con.execute(
            """
            insert into raw_services select 'PS' || lpad(i::varchar, 5, '0'),
                json_object('id', 'PS' || lpad(i::varchar, 5, '0'), 'name', 'service-' || i,
                    'teams', [json_object('id', 'PT' || (i % 25))]), now()
            from range(200) t(i);
            insert into raw_teams select 'PT' || i, json_object('id', 'PT' || i, 'name', 'team-' || i),
                now() from range(25) t(i);
            insert into raw_users select 'PU' || i,
                json_object('id', 'PU' || i, 'name', 'user ' || i, 'time_zone',
                    ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'][1 + i % 4],
                    'teams', [json_object('id', 'PT' || (i % 25))]), now()
            from range(400) t(i);
            """
        )
        con.execute(
            """
            create temp table inc as
            select 'PI' || i as id, 'PS' || lpad((i % 200)::varchar, 5, '0') as service_id,
                timestamptz '2025-01-01' + to_seconds((i * 31.5)::bigint) as created_at,
                (60 + hash(i) % 3600)::bigint as ttr,
                'PU' || (hash(i * 7) % 400) as user_id, hash(i) % 3 = 0 as auto
            from range(?) t(i)
            """,
            [incidents],
        )
        con.execute(
            """
            insert into raw_incidents select id, json_object('id', id, 'status', 'resolved',
                'created_at', strftime(created_at, '%Y-%m-%dT%H:%M:%SZ'),
                'service', json_object('id', service_id), 'urgency', 'high',
                'alert_counts', json_object('all', 1)), now() from inc;
            insert into raw_log_entries
            select id || '-' || k, json_object('id', id || '-' || k,
                'type', ['trigger_log_entry', 'notify_log_entry', 'notify_log_entry',
                         'notify_log_entry', 'acknowledge_log_entry', 'annotate_log_entry',
                         'notify_log_entry', 'escalate_log_entry', 'notify_log_entry',
                         'resolve_log_entry'][k + 1],
                'created_at', strftime(created_at + to_seconds(k * ttr / 9), '%Y-%m-%dT%H:%M:%SZ'),
                'incident', json_object('id', id),
                'agent', json_object('type', case when auto and k = 9 then 'service_reference'
                                              else 'user_reference' end, 'id', user_id),
                'channel', json_object('type', 'web_ui', 'notification',
                    json_object('type', ['push_notification', 'sms_notification',
                                         'email_notification'][1 + k % 3])),
                'user', json_object('id', user_id)), now()
            from inc, range(10) r(k)
            """
        )


def _given_warehouses(parser: argparse.ArgumentParser, values: list[str]) -> dict[str, Path]:
    """``--warehouse SIZE=PATH`` options as {size: path}; an unknown size or a missing file
    is a usage error."""
    given = {}
    for value in values:
        label, _, path = value.partition("=")
        if label not in SIZES or not path:
            parser.error(f"--warehouse {value!r}: expected SIZE=PATH with SIZE in {list(SIZES)}")
        if not Path(path).is_file():
            parser.error(f"--warehouse {value!r}: no such file")
        given[label] = Path(path)
    return given


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 100k size only")
    parser.add_argument("--synthetic", action="store_true", help="SQL-made data, no simulator")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument(
        "--no-noise", action="store_true", help="SQL models and checks only (no noise marts)"
    )
    parser.add_argument(
        "--warehouse",
        action="append",
        default=[],
        metavar="SIZE=PATH",
        help=f"build this raw warehouse as SIZE ({', '.join(SIZES)}) instead of the cached one",
    )
    args = parser.parse_args(argv)
    given = _given_warehouses(parser, args.warehouse)
    synthetic = args.synthetic
    if not synthetic and not given:
        try:
            import simulator.generate  # noqa: F401
        except ModuleNotFoundError:
            print("simulator.generate is missing: falling back to --synthetic data")
            synthetic = True
    sizes = {"100k": SIZES["100k"]} if args.quick else SIZES
    if given:
        sizes = {label: days for label, days in SIZES.items() if label in given}
    results = {}
    for label, days in sizes.items():
        db = given[label] if given else warehouse(label, days, synthetic)
        result = run_build(db, args.threads, args.memory_limit, noise=not args.no_noise)
        results[label] = result
        print(
            f"[{label}] build: {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU, "
            f"peak RSS {result['peak_rss_mib']:.0f} MiB, "
            f"{result['incidents']:,} incidents, {result['log_entries']:,} log entries; "
            f"SQL models {result['models_seconds']:.1f} s, noise marts "
            f"{result['noise_seconds']:.1f} s {result['noise_steps']}, "
            f"checks {result['checks_seconds']:.1f} s; slowest steps {result['slowest']}",
            flush=True,
        )
    if "1M" in results and "100k" in results:
        small, large = results["100k"], results["1M"]
        ratio = large["seconds"] / small["seconds"]
        size_ratio = large["incidents"] / max(small["incidents"], 1)
        models_ratio = large["models_seconds"] / small["models_seconds"]
        cpu_ratio = large["cpu_seconds"] / small["cpu_seconds"]
        print(f"growth of the SQL models alone: {models_ratio:.1f}x; CPU time: {cpu_ratio:.1f}x")
        print(
            f"growth: {ratio:.1f}x time for {size_ratio:.1f}x incidents (target <= 12x); "
            f"1M build {large['seconds']:.1f} s (target < 60 s), peak "
            f"{large['peak_rss_mib'] / 1024:.2f} GiB (target < 4 GiB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
