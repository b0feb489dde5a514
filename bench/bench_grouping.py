"""Benchmark: template mining plus co-firing grouping on 100k and 1M alerts.

Alerts come from a warehouse written by ``pagerlens simulate generate`` (``--db``; without it,
one is generated once into ``bench/.cache/``). Each alert is one event: its summary is mined
(:func:`etl.grouping.mine_templates` over the distinct summaries, mapped back), then the
alerts are grouped (:func:`etl.clustering.find_groups`). When the warehouse holds fewer
alerts than a size, its history is tiled forward in time; every tile after the first rewrites
the digits of each summary (a deterministic digit rotation), so hosts, IPs and numbers stay
distinct and the per-string cache gains nothing from the tiling. The baseline is drain3 on the
same 100k summaries. Each size runs in its own process, so peak memory (max RSS) is per size.

    .venv/bin/python bench/bench_grouping.py            # 100k and 1M
    .venv/bin/python bench/bench_grouping.py --quick    # 100k only
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CACHE = REPO / "bench" / ".cache"
# The simulated history ends on a fixed day, so the benchmark measures the same account any day.
END = "2026-01-01T00:00:00+00:00"
SIZES = (100_000, 1_000_000)
TARGET_SECONDS_1M = 120.0


def _ensure_warehouse(db: Path | None, quick: bool) -> Path:
    if db is not None:
        return db
    from simulator.generate import generate_to_warehouse

    days = 40 if quick else 90
    path = CACHE / f"grouping-seed7-d{days}-s8-end{END[:10]}.duckdb"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} (days={days}, scale=8; once) ...", flush=True)
        generate_to_warehouse(path, seed=7, days=days, scale=8, end=datetime.fromisoformat(END))
    return path


def _alerts(db: Path, size: int):
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.execute(
            """
            select a.id as incident_id,
                   coalesce(json_extract_string(a.payload, '$.summary'), '') as summary,
                   cast(json_extract_string(a.payload, '$.created_at') as timestamptz)
                       as created_at,
                   -- Alerts carry no resolution time: the incident's (joint events use it).
                   try_cast(json_extract_string(i.payload, '$.resolved_at') as timestamptz)
                       as resolved_at,
                   coalesce(json_extract_string(a.payload, '$.service.id'),
                            json_extract_string(i.payload, '$.service.id')) as service_id
            from raw_alerts a
            left join raw_incidents i
                on i.id = json_extract_string(a.payload, '$.incident.id')
            order by created_at, a.id
            limit ?
            """,
            [size],
        ).df()
    finally:
        con.close()
    base = len(frame)
    if base == 0:
        raise SystemExit(f"no alerts in {db}")
    period = frame["created_at"].max() - frame["created_at"].min() + pd.Timedelta(hours=1)
    tiles = [frame]
    tile = 1
    while sum(len(t) for t in tiles) < size:
        rotate = str.maketrans("0123456789", "".join(str((d + tile) % 10) for d in range(10)))
        copy = frame.copy()
        copy["incident_id"] = copy["incident_id"] + f"-t{tile}"
        copy["created_at"] = copy["created_at"] + period * tile
        copy["resolved_at"] = copy["resolved_at"] + period * tile
        copy["summary"] = copy["summary"].str.translate(rotate)
        tiles.append(copy)
        tile += 1
    return pd.concat(tiles, ignore_index=True).head(size), base


def _child(db: Path, size: int, baseline: bool) -> dict:
    from etl.clustering import find_groups
    from etl.grouping import mine_templates, template_id

    frame, base = _alerts(db, size)
    loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu_started = time.process_time()
    started = time.perf_counter()
    distinct = frame["summary"].drop_duplicates().tolist()
    template_of = dict(zip(distinct, mine_templates(distinct), strict=True))
    frame["template"] = frame["summary"].map(template_of)
    ids = {t: template_id(t) for t in set(template_of.values())}
    frame["template_id"] = frame["template"].map(ids)
    mining = time.perf_counter() - started
    started = time.perf_counter()
    result = find_groups(frame)
    grouping = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    figures = {
        "alerts": len(frame),
        "alerts_from_warehouse": base,
        "distinct_summaries": len(distinct),
        "templates": len(ids),
        "mining_seconds": round(mining, 2),
        "grouping_seconds": round(grouping, 2),
        "total_seconds": round(mining + grouping, 2),
        "total_cpu_seconds": round(cpu, 2),
        "groups": int(result.quality.get("groups", 0)),
        "alert_types": int(result.quality.get("alert_types", 0)),
        "incidents_in_groups": int(result.quality.get("incidents_in_groups", 0)),
        "max_rss_mb_after_load": round(loaded_rss),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if baseline:
        from bench.corpora import drain3_templates

        summaries = frame["summary"].tolist()
        started = time.perf_counter()
        drained = drain3_templates(summaries, masked=True)
        figures["drain3_seconds"] = round(time.perf_counter() - started, 2)
        figures["drain3_templates"] = len(set(drained))
    return figures


def _growth(small: dict, large: dict) -> str:
    """The 100k -> 1M line: time and peak memory growth, and the 1M total against the target."""
    growth = large["total_seconds"] / max(small["total_seconds"], 1e-9)
    verdict = "met" if large["total_seconds"] < TARGET_SECONDS_1M else "MISSED"
    return (
        f"growth 100k -> 1M: time x{growth:.1f} (x10 data), "
        f"max RSS {small['max_rss_mb']} -> {large['max_rss_mb']} MB; "
        f"1M total {large['total_seconds']} s vs target {TARGET_SECONDS_1M:.0f} s: {verdict}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k alerts only")
    parser.add_argument("--db", type=Path, help="a warehouse from `pagerlens simulate generate`")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size:
        print(json.dumps(_child(args.db, args.size, args.baseline)))
        return 0
    db = _ensure_warehouse(args.db, args.quick)
    sizes = SIZES[:1] if args.quick else SIZES
    results = {}
    for size in sizes:
        command = [sys.executable, __file__, "--db", str(db), "--size", str(size)]
        if size == SIZES[0]:
            command.append("--baseline")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[size] = json.loads(output.strip().splitlines()[-1])
        print(
            f"{size:>9,} alerts: " + ", ".join(f"{k}={v}" for k, v in results[size].items()),
            flush=True,
        )
    if len(results) == 2:
        print(_growth(results[SIZES[0]], results[SIZES[1]]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
