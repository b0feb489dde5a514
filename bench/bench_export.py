"""Benchmark `pagerlens export` (Parquet and Iceberg) of the public marts against DuckDB's plain
``COPY ... TO parquet`` of the same tables, at the sizes of bench_build.

The warehouses are bench_build's (cached in ``PAGERLENS_BENCH_DIR``, built there by
bench_build); a raw-only one is copied and the copy built (the cached file is left as it is,
other benchmarks read it). Every export runs in a fresh child process that reports its wall
and CPU time (imports excluded) and peak RSS; sizes are the bytes of the files written.

- baseline: one ``COPY <mart> TO '<dir>/<mart>.parquet' (format parquet)`` per mart (DuckDB's
  defaults: snappy, no partitions, no manifest, not atomic);
- parquet: ``export_parquet`` (zstd, week partitions, manifest, checked row counts, atomic);
- iceberg: ``export_iceberg`` into a SQLite catalog, then again over the same build (which
  must add no snapshot: the nightly cost when nothing was rebuilt);
- with ``--raw``: the parquet export with the raw layer too, and (100k only) the Iceberg
  export with the raw layer, then again after one day of raw changes.

    .venv/bin/python bench/bench_export.py            # 100k and 1M
    .venv/bin/python bench/bench_export.py --quick    # 100k only
    .venv/bin/python bench/bench_export.py --raw      # also the raw layer as Parquet
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

from bench.bench_build import SIZES, run_build, warehouse  # noqa: E402

# The imports (pandas, pyarrow, pyiceberg: 1-4 s on this machine) are timed apart from the
# export itself, so the figures compare the work, not the interpreter's start.
CHILD = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import duckdb
from etl.queries import MART_TABLES
from etl.export import export_parquet
from etl.export.iceberg import export_iceberg
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
cpu_before, started = cpu(), time.perf_counter()
{body}
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu() - cpu_before,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "detail": detail}}))
"""

BASELINE = """
con = duckdb.connect({db!r}, read_only=True)
con.execute("set enable_progress_bar = false")
for table in MART_TABLES:
    con.execute(f"copy {{table}} to '{out}/{{table}}.parquet' (format parquet)").fetchall()
detail = None
"""

PARQUET = """
result = export_parquet({db!r}, {out!r}, raw={raw})
detail = {{"rows": sum(t.rows for t in result.tables), "tables": len(result.tables)}}
"""

ICEBERG = """
result = export_iceberg({db!r}, {out!r}, raw={raw})
detail = {{"changed": sum(t.action != "unchanged" for t in result.tables),
          "rows": sum(t.rows_written for t in result.tables)}}
"""


def child(body: str) -> dict:
    code = CHILD.format(repo=str(REPO), body=body)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"export failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def size_mib(path: Path) -> float:
    files = [p for p in Path(path).resolve().rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def built(db: Path, scratch: Path) -> Path:
    """The warehouse with its marts: bench_build's cached file, or a built copy of it in
    ``scratch`` when it holds the raw layer only."""
    from etl.queries import Reader

    reader = Reader(db)
    ready = reader.is_built()
    reader.close()
    if ready:
        return db
    copy = scratch / db.name
    print(f"{db} holds raw tables only: building a copy in {scratch} ...", flush=True)
    shutil.copyfile(db, copy)
    result = run_build(copy, threads=2, memory="3GB")
    print(f"built in {result['seconds']:.1f} s", flush=True)
    return copy


def measure(label: str, db: Path, scratch: Path, raw: bool) -> dict:
    runs = {
        "baseline COPY": BASELINE.format(db=str(db), out=str(scratch / "copy")),
        "pagerlens parquet": PARQUET.format(db=str(db), out=str(scratch / "lake"), raw=False),
        "pagerlens iceberg": ICEBERG.format(db=str(db), out=str(scratch / "iceberg"), raw=False),
        "iceberg same build": ICEBERG.format(db=str(db), out=str(scratch / "iceberg"), raw=False),
    }
    if raw:
        runs["parquet --raw"] = PARQUET.format(db=str(db), out=str(scratch / "raw"), raw=True)
    (scratch / "copy").mkdir()
    sizes = {
        "baseline COPY": scratch / "copy",
        "pagerlens parquet": scratch / "lake",
        "pagerlens iceberg": scratch / "iceberg" / "warehouse",
        "parquet --raw": scratch / "raw",
    }
    results = {}
    for name, body in runs.items():
        result = child(body)
        result["mib"] = size_mib(sizes[name]) if name in sizes else None
        results[name] = result
        size = f", {result['mib']:.1f} MiB" if result["mib"] is not None else ""
        print(
            f"[{label}] {name:<19} {result['seconds']:6.1f} s wall, "
            f"{result['cpu_seconds']:6.1f} s CPU, peak RSS {result['peak_rss_mib']:5.0f} MiB"
            f"{size} {result['detail'] or ''}",
            flush=True,
        )
    ours, base = results["pagerlens parquet"], results["baseline COPY"]
    print(
        f"[{label}] parquet export vs plain COPY: {ours['seconds'] / base['seconds']:.2f}x time, "
        f"{ours['mib'] / base['mib']:.2f}x size",
        flush=True,
    )
    if results["iceberg same build"]["detail"]["changed"]:
        raise RuntimeError("an iceberg run over the same build added snapshots")
    return results


# One day of the scale-8 organisation: about 2,700 incidents and 24,000 log entries.
DAY_INCIDENTS, DAY_LOG_ENTRIES = 2_700, 24_000


def iceberg_nightly(label: str, db: Path, scratch: Path) -> None:
    """The Iceberg export with the raw layer, then again after one day of raw changes (new log
    entries, incidents fetched again) on a copy: what a nightly run adds to a lake."""
    from datetime import UTC, datetime, timedelta

    from etl.warehouse import building

    copy = scratch / "day.duckdb"
    shutil.copyfile(db, copy)
    out = str(scratch / "iceberg-raw")
    first = child(ICEBERG.format(db=str(copy), out=out, raw=True))
    later = datetime.now(UTC) + timedelta(days=1)
    with building(copy) as con:
        con.execute(
            "insert into raw_log_entries select 'day-' || id, payload, ?"
            " from raw_log_entries order by hash(id) limit ?",
            [later, DAY_LOG_ENTRIES],
        )
        con.execute(
            "update raw_incidents set fetched_at = ? where id in"
            " (select id from raw_incidents order by hash(id) limit ?)",
            [later, DAY_INCIDENTS],
        )
    day = child(ICEBERG.format(db=str(copy), out=out, raw=True))
    for name, result in (("iceberg --raw first", first), ("iceberg --raw a day", day)):
        print(
            f"[{label}] {name:<19} {result['seconds']:6.1f} s wall, "
            f"{result['cpu_seconds']:6.1f} s CPU, peak RSS {result['peak_rss_mib']:5.0f} MiB"
            f" {result['detail']}",
            flush=True,
        )
    if day["detail"]["rows"] != DAY_INCIDENTS + DAY_LOG_ENTRIES:
        raise RuntimeError(f"a day's changes wrote {day['detail']['rows']} rows")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 100k size only")
    parser.add_argument("--raw", action="store_true", help="also export the raw layer")
    args = parser.parse_args(argv)
    sizes = {"100k": SIZES["100k"]} if args.quick else SIZES
    for label, days in sizes.items():
        cached = warehouse(label, days, synthetic=False)
        scratch = Path(tempfile.mkdtemp(prefix=f"pagerlens-export-{label}-"))
        try:
            db = built(cached, scratch)
            measure(label, db, scratch, args.raw)
            if args.raw and label == "100k":  # a copy of the 1M file would cost 3 GB more
                iceberg_nightly(label, db, scratch)
        finally:
            shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
