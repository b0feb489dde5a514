"""Write a simulated account straight into the warehouse's raw tables, for scale work.

``generate_to_warehouse`` produces the rows the HTTP server would serve and the loader would
store (incident objects as of the end, log entries with the incident reduced to a reference,
alerts with their incident reference, on-calls keyed like the loader keys them), without HTTP.

Memory stays bounded: time is cut into day-long chunks, each generated, serialised and inserted
(Arrow batches) before the next, so memory does not grow with ``days``. Generation runs in
worker processes in two passes: first every chunk is planned (cheap) to learn how many incident
numbers and alert ids it uses, then chunks are simulated in parallel with their numbering fixed.
The workers also encode the rows (orjson) and spool them as Arrow files the parent maps, so the
parent only inserts.
The rows are exactly those of :func:`simulator.account.generate_account` for the same
arguments. The ground truth goes to ``<db>.ground_truth.json`` beside the warehouse.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from etl.load import incident_reference, oncall_id
from etl.load import sql as load_sql
from etl.warehouse import RAW_RESOURCES, building
from simulator.dependencies import dependency_answers, depends_on_ids
from simulator.generator import AccountGenerator
from simulator.state import SimIncident

SQL_DIR = Path(__file__).with_name("sql")

Rows = tuple[list[str], list[bytes]]  # (ids, JSON payloads as UTF-8)
# DuckDB's row group (pragma storage_info shows it). Generated rows are inserted in whole row
# groups, which DuckDB writes straight to the file; see _insert_chunks.
ROW_GROUP_ROWS = 122_880


@cache
def _sql(name: str, table: str | None = None) -> str:
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    if table is not None:
        if table.removeprefix("raw_") not in RAW_RESOURCES:
            raise ValueError(f"not a raw table: {table}")
        text = text.replace("{table}", table)
    return text


def _dumps(record: dict) -> bytes:
    """The loader's canonical JSON (etl/load.py) as UTF-8, so generated rows read like loaded ones.

    orjson with sorted keys writes the same bytes as ``json.dumps(sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`` for what the simulator emits: strings
    (escapes included), 64-bit integers, booleans, None, lists and dicts with string keys.
    It would differ on floats below 1e-4 in magnitude (``1e-05`` vs ``0.00001``) and NaN;
    the simulator emits no floats. tests/simulator/test_generate_bytes.py checks both
    (every row of a generated account against the loader's encoder, and the value types).
    Measured: about ten times faster than the standard encoder on log entries.
    """
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def incident_rows(sims: Iterable[SimIncident]) -> dict[str, Rows]:
    """Raw rows (ids, payloads) for incidents, log entries and alerts, as the loader stores them."""
    inc_ids, inc_payloads = [], []
    le_ids, le_payloads = [], []
    al_ids, al_payloads = [], []
    for sim in sims:
        incident = sim.incident
        inc_ids.append(incident["id"])
        inc_payloads.append(_dumps(incident))
        # Log entries are stored with the incident reduced to a reference (etl/load.py).
        reference = incident_reference(incident)
        for entry in sim.log_entries:
            le_ids.append(entry["id"])
            le_payloads.append(_dumps(dict(entry, incident=reference)))
        for alert in sim.alerts:
            al_ids.append(alert["id"])
            al_payloads.append(_dumps(alert))
    return {
        "incidents": (inc_ids, inc_payloads),
        "log_entries": (le_ids, le_payloads),
        "alerts": (al_ids, al_payloads),
    }


def organisation_rows(gen: AccountGenerator) -> dict[str, Rows]:
    """Raw rows for teams, users, services, policies, schedules, priorities, on-calls and
    every service's dependencies (the simulator's answer, keyed by the service id)."""
    out: dict[str, Rows] = {}
    for name, objects in gen.org.api_objects().items():
        # An on-call has no id of its own: keyed as the loader keys it.
        ids = [oncall_id(o) if name == "oncalls" else o["id"] for o in objects]
        out[name] = (ids, [_dumps(o) for o in objects])
    answers = dependency_answers(gen.org.services, depends_on_ids(gen.org))
    out["service_dependencies"] = (
        list(answers),
        [_dumps({"id": key, **answer}) for key, answer in answers.items()],
    )
    return out


# ---------------------------------------------------------------------------- worker processes
_WORKER: dict[str, AccountGenerator] = {}


def _init_worker(seed: int, days: int, scale: float, end: datetime, volume: float | None) -> None:
    _WORKER["gen"] = AccountGenerator(seed=seed, days=days, scale=scale, end=end, volume=volume)
    # A chunk allocates millions of small dicts and lists, and CPython's cyclic collector kept
    # traversing them (and the organisation) as they piled up: measured on 4 days at scale 8,
    # simulating took 172-195 us per incident with it and 105-127 without. The organisation
    # lives as long as the worker (frozen: never traversed again); the rows are trees that
    # reference counting frees, and each chunk starts with one collection for any cycles.
    gc.freeze()
    gc.disable()


def _plan_task(task: tuple[int, int, int]) -> tuple[int, int, int, tuple]:
    """Pass 1: plan one chunk; return its sizes and the ground truth its planning fixed."""
    index, c0, c1 = task
    gen = _WORKER["gen"]
    gen.truth.reset()
    mark = gen.truth.mark()
    plans = gen.plan_chunk(index, c0, c1)
    n_incidents, n_alerts = gen.plan_sizes(plans)
    return index, n_incidents, n_alerts, gen.truth.planned_since(mark)


def _simulate_task(task: tuple) -> tuple[int, dict[str, str], list]:
    """Pass 2: simulate one chunk with its numbering fixed; return its spooled rows and truth.

    The rows go to one Arrow IPC file per resource in the spool folder (tmpfs where there is
    one), which the parent maps instead of receiving gigabytes through a pipe: measured on
    10 days at scale 8, pickling, piping and unpickling the tables cost the workers and the
    parent's result thread more CPU than the writes and maps that replace them.
    """
    index, c0, c1, number_base, alert_base, spool = task
    gc.collect()
    gen = _WORKER["gen"]
    gen.truth.reset()
    plans = gen.plan_chunk(index, c0, c1)
    sims = gen.simulate_chunk(index, plans, number_base, alert_base)
    paths = {}
    for name, rows in incident_rows(sims).items():
        paths[name] = os.path.join(spool, f"chunk-{index:05d}-{name}.arrow")
        _write_spooled(_arrow(rows), paths[name])
    return index, paths, list(gen.truth.events)


def _write_spooled(table: pa.Table, path: str) -> None:
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_spooled(path: str) -> pa.Table:
    """The table of a spooled file, memory-mapped; the file is unlinked at once (the mapping
    keeps its pages until the table is released after its insert)."""
    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    os.unlink(path)
    return table


def _arrow(rows: Rows) -> pa.Table:
    """An Arrow table (id, payload) of raw rows.

    ``fetched_at`` is the same for every row: the insert binds it as a parameter rather than
    shipping a column of datetimes. Strings are handed to Arrow as one UTF-8 buffer with
    offsets: ``pa.array`` on a list of ~1.5 KB strings measured 3-5 times slower.
    """
    ids, payloads = rows
    return pa.table(
        {"id": _string_array([i.encode() for i in ids]), "payload": _string_array(payloads)}
    )


def _string_array(encoded: list[bytes]) -> pa.Array:
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    data = b"".join(encoded)
    # Valid UTF-8 by construction (str.encode, orjson), so Arrow need not validate it.
    return pa.LargeStringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(data))


def _iter_chunks_parallel(gen: AccountGenerator, args: tuple, workers: int):
    """Yield (rows, truth events) per chunk in time order, generated by worker processes."""
    bounds = gen.chunk_bounds()
    ctx = multiprocessing.get_context("spawn")  # no fork: the parent may hold DuckDB threads
    with (
        tempfile.TemporaryDirectory(
            prefix="pagerlens-generate-", dir=_spool_parent(), ignore_cleanup_errors=True
        ) as spool,
        ctx.Pool(workers, initializer=_init_worker, initargs=args) as pool,
    ):
        tasks = []
        number, alert = 1, 1
        for index, n_incidents, n_alerts, truth in pool.imap(_plan_task, bounds, chunksize=4):
            _, c0, c1 = bounds[index]
            tasks.append((index, c0, c1, number, alert, spool))
            gen.truth.merge_planned(truth)
            number += n_incidents
            alert += n_alerts
        # At most a few chunks in flight: their files wait until the parent inserts them.
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(_simulate_task, (task,)))
            if len(pending) >= 2 * workers:
                yield _received(pending.popleft().get())
        while pending:
            yield _received(pending.popleft().get())


def _received(result: tuple[int, dict[str, str], list]) -> tuple[dict[str, pa.Table], list]:
    _index, paths, events = result
    return {name: _read_spooled(path) for name, path in paths.items()}, events


def _spool_parent() -> str | None:
    """Shared memory (tmpfs) for the spooled chunks where there is one, else the temp folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _iter_chunks_inline(gen: AccountGenerator):
    for sims in gen.chunks():
        rows = incident_rows(sims)
        yield {name: _arrow(r) for name, r in rows.items()}, None


# ---------------------------------------------------------------------------- public API
def generate_to_warehouse(
    db_path: str | os.PathLike,
    seed: int = 7,
    days: int = 365,
    scale: float = 8.0,
    end: datetime | None = None,
    *,
    volume: float | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write a simulated account into the raw tables of ``db_path`` (published atomically).

    The generated account replaces the raw layer (raw tables and watermarks are emptied first;
    marts are left to ``pagerlens build``). ``fetched_at`` is the account's end. A ``_sync_runs``
    row with mode ``generate`` records the run. ``workers`` is the number of generator processes
    (default: one per CPU for large runs, in-process for small ones); the rows do not depend on
    it; workers are spawned, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard. Returns the row count per resource, ``seconds`` taken
    and the ``ground_truth`` path.
    """
    started = time.monotonic()
    started_at = datetime.now(UTC)
    db_path = Path(db_path)
    gen = AccountGenerator(seed=seed, days=days, scale=scale, end=end, volume=volume)
    if workers is None:
        workers = (os.cpu_count() or 1) if days * scale >= 60 else 0
    fetched_at = gen.end_dt
    counts = {name: 0 for name in RAW_RESOURCES}

    with building(db_path) as con:
        _prepare(con)
        insert_all = _raw_inserter(con, fetched_at, counts)
        insert_all({name: [_arrow(rows)] for name, rows in organisation_rows(gen).items()})
        chunks = (
            _iter_chunks_parallel(gen, (seed, days, scale, gen.end_dt, volume), workers)
            if workers > 0
            else _iter_chunks_inline(gen)
        )
        # Once the last chunk is in, the workers are done: the last batch, the keys' indexes and
        # the last checkpoint may use all cores.
        _insert_chunks(gen, chunks, insert_all, progress, lambda: con.execute("reset threads"))
        for name in RAW_RESOURCES:
            con.execute(_sql("key_raw", f"raw_{name}"))
        duration = time.monotonic() - started
        message = f"simulated account: seed {seed}, {days} days, scale {scale:g}"
        _record_run(con, gen, started_at, counts, duration, message)

    truth_path = db_path.with_name(db_path.name + ".ground_truth.json")
    truth_path.write_text(json.dumps(gen.ground_truth(), indent=1), encoding="utf-8")
    return {
        **counts,
        "seconds": round(time.monotonic() - started, 3),
        "ground_truth": str(truth_path),
    }


def _prepare(con) -> None:
    """Session settings for a one-off bulk write, then an empty raw layer."""
    # Bound DuckDB's buffer pool: the raw tables are written once, never re-read here.
    con.execute("set memory_limit = '2GB'")
    # A raw table is a set of records keyed by id; keeping the Arrow batches' row order
    # would serialise DuckDB's insert pipeline for nothing.
    con.execute("set preserve_insertion_order = false")
    # Zstandard for the JSON payloads: measured on generated log entries, the insert took
    # 2.5 instead of 6.3 CPU seconds per 466k rows, the file was 4.5 times smaller, and a
    # scan extracting JSON fields cost about the same (+10%). Only this connection's
    # writes use it; later syncs write with DuckDB's defaults into the same tables.
    con.execute("set force_compression = 'zstd'")
    # One DuckDB thread: the worker processes keep the cores busy, and a single-threaded
    # insert measured about 10% less CPU for the same rows (6 days at scale 8: 1.21-1.28 s
    # against 1.35-1.78 s with two threads).
    con.execute("set threads = 1")
    # Checkpoint after each gigabyte of WAL, not DuckDB's 16 MB: the inserts write whole row
    # groups to the file (_insert_chunks), so the WAL holds little more than their metadata,
    # and each checkpoint costs more as the tables grow.
    con.execute("set checkpoint_threshold = '1GB'")
    for name in RAW_RESOURCES:
        con.execute(_sql("clear_raw", f"raw_{name}"))
    con.execute(_sql("clear_watermarks"))


def _raw_inserter(
    con, fetched_at: datetime, counts: dict[str, int]
) -> Callable[[dict[str, list[pa.Table]]], None]:
    """A function inserting Arrow batches per resource into the raw tables (and counting)."""

    def insert(resource: str, tables: list[pa.Table]) -> None:
        batch = pa.concat_tables(tables)
        if batch.num_rows:
            con.register("raw_batch", batch)
            try:
                con.execute(_sql("insert_raw", f"raw_{resource}"), {"fetched_at": fetched_at})
            finally:
                con.unregister("raw_batch")
            counts[resource] += batch.num_rows

    def insert_all(batches: dict[str, list[pa.Table]]) -> None:
        for resource, tables in batches.items():
            insert(resource, tables)

    return insert_all


def _insert_chunks(
    gen: AccountGenerator,
    chunks: Iterable,
    insert_all: Callable[[dict[str, list[pa.Table]]], None],
    progress: Callable[[int, int], None] | None,
    before_last: Callable[[], object],
) -> None:
    """Insert the chunks' rows in whole row groups and apply their ground-truth events;
    ``before_last`` runs once every chunk has arrived, before the last rows are inserted.

    A resource's rows are buffered until they fill at least one of DuckDB's row groups, and
    then its whole row groups are inserted; the rest waits for the next chunks, and the last
    insert takes everything left. DuckDB writes full row groups of an insert straight to the
    file, compressed once; a part-filled one goes through the WAL, and every checkpoint then
    rewrote it. Replaying a year's inserts (2.2 GB of incidents, 13 GB of log entries, 3 GB
    of alerts): 119 CPU s (28 s of it in the kernel) in day-sized batches, 49 s in whole row
    groups. Memory: under two row groups per resource wait here, one insert runs meanwhile.
    """
    total = len(gen.chunk_bounds())
    # The insert runs in a thread (DuckDB releases the GIL), so the workers are fed meanwhile;
    # only that thread uses the connection until it has finished.
    buffered: dict[str, list[pa.Table]] = {}
    with ThreadPoolExecutor(1, thread_name_prefix="generate-insert") as inserter:
        inserting: Future | None = None
        for done, (tables, events) in enumerate(chunks, start=1):
            for resource, table in tables.items():
                buffered.setdefault(resource, []).append(table)
            last = done == total
            ready = _whole_row_groups(buffered, everything=last)
            if ready:
                if inserting is not None:
                    inserting.result()
                if last:
                    before_last()
                inserting = inserter.submit(insert_all, ready)
            if events is not None:
                for event in events:
                    gen.truth.apply(event)
            if progress is not None:
                progress(done, total)
        if inserting is not None:
            inserting.result()


def _whole_row_groups(
    buffered: dict[str, list[pa.Table]], everything: bool
) -> dict[str, list[pa.Table]]:
    """Take from ``buffered`` each resource's rows that fill whole row groups (all its rows
    when ``everything``); the rest stays buffered, in order."""
    ready: dict[str, list[pa.Table]] = {}
    for resource, tables in buffered.items():
        rows = sum(t.num_rows for t in tables)
        take = rows if everything else rows - rows % ROW_GROUP_ROWS
        if take == 0:
            continue
        batch = pa.concat_tables(tables)
        ready[resource] = [batch.slice(0, take)]
        buffered[resource] = [batch.slice(take)] if take < rows else []
    return ready


def _record_run(
    con, gen: AccountGenerator, started_at: datetime, counts: dict, duration: float, message: str
) -> None:
    """The ``_sync_runs`` row of a generated raw layer (mode ``generate``)."""
    con.execute(
        load_sql("insert_sync_run"),
        {
            "run_id": f"generate-{uuid.uuid4().hex[:12]}",
            "started_at": started_at,
            "finished_at": datetime.now(UTC),
            "status": "ok",
            "api_url": None,
            "since": gen.start_dt,
            "until": gen.end_dt,
            "mode": "generate",
            "requests": 0,
            "retries": 0,
            "rejects": 0,
            "records_json": json.dumps(counts),
            "duration_seconds": duration,
            "message": message,
        },
    )
