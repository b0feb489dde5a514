"""Build the marts: run the SQL models layer by layer, the noise step, then the data checks.

Models are the ``.sql`` files of three layers: ``etl/models/staging`` (rename, cast and unnest
the raw JSON), ``etl/models/marts`` (the business logic, see ``docs/metrics.md``) and
``etl/models/noise`` (the narrow inputs of the noise step, :mod:`etl.noise`). Each file is one
``select`` that becomes the table named after the file. Dependencies are read from the SQL
(a model that names another model runs after it), so adding a model needs no registry.
A model may declare ``-- incremental:``, per raw row (a build re-parses only the raw rows
changed since the last, :mod:`etl.incremental`) or per key, an incident or a log entry (it
recomputes only the keys its inputs' changes touched, :mod:`etl.incremental_keyed`).
``full=True`` drops every model's table first and builds them all from scratch.
Runtime values are bound named parameters (``$transient_seconds``) from
:meth:`etl.config.Config.sql_params`; a model receives exactly the parameters it names. After
the models, the noise step (:func:`etl.noise.build_noise_marts`, Python: templates, groups,
recommendations) consumes the noise layer's tables, under its own DuckDB memory limit.

A failed data check raises :class:`etl.checks.DataCheckError`; inside
:func:`etl.warehouse.building` that discards the work copy: the published warehouse stays.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl import incremental, incremental_keyed
from etl.checks import CheckResult, DataCheckError, run_checks
from etl.config import Config, load_config
from etl.warehouse import RAW_RESOURCES, building, ensure_raw_schema

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).with_name("models")
# Run in this order; a layer reads only its own and earlier layers (checked on discovery).
LAYERS = ("staging", "marts", "noise")
# SQL macros the models (and the read queries) share: each file one `create or replace macro`,
# created before the models run and kept in the warehouse (etl/models/macros/*.sql).
MACROS_DIR = MODELS_DIR / "macros"

_RAW_TABLES = frozenset(f"raw_{name}" for name in RAW_RESOURCES)
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")

# DuckDB's own default is 80% of RAM; the build target is under 4 GB peak for the process,
# so DuckDB gets 3 GB for the SQL models and spills to disk beyond it. In the noise step Python
# holds the big frames: DuckDB's limit drops to half the build's, at most NOISE_MEMORY_LIMIT,
# and it frees the models' cached blocks (750 MB in a nightly: peak 1.56-1.63 GiB at 1M, 1.92-2
# at 1.5 GB; a third spilled: 1.3 s slower for 0.1 GiB less; docs/benchmarks.md "Nightly").
DEFAULT_MEMORY_LIMIT = "3GB"
NOISE_MEMORY_LIMIT = "1GB"
NOISE_MEMORY_SHARE = 1 / 2
# A build that continues the last one (the nightly: incremental models, a day of changes) reads
# a fraction of the data, and ran as fast under half the limit when the marts were still
# rebuilt whole (ba2bb31, a million incidents: 35.3 s and 1.87 GiB peak at 1.5 GB against
# 35.1 s and 2.40 GiB at 3 GB), where a build from scratch is 5 s slower at 1.5 GB.
# `memory_limit="auto"` picks by that. Since the marts are incremental by key the nightly's
# peak is the noise step's (docs/benchmarks.md "Nightly").
INCREMENTAL_MEMORY_LIMIT = "1.5GB"
AUTO = "auto"

BUILD_RUNS_SCHEMA = """
create table if not exists _build_runs (
    build_id varchar not null,
    step varchar not null,            -- model name, 'noise' (the Python step) or 'checks'
    layer varchar not null,           -- staging | marts | noise | checks
    rows bigint,
    seconds double not null,
    status varchar not null,          -- ok | failed | skipped
    finished_at timestamptz not null
);
"""


@dataclass(frozen=True)
class Model:
    """One SQL model: a file whose ``select`` becomes the table ``name``."""

    name: str
    layer: str
    path: Path
    sql: str
    depends_on: frozenset[str]
    params: tuple[str, ...]
    # Set when the file declares `-- incremental:`: refreshed row by row (etl/incremental.py)
    # or key by key (etl/incremental_keyed.py).
    increment: incremental.Increment | incremental_keyed.KeyedIncrement | None = None


@dataclass(frozen=True)
class ModelRun:
    """What building one model (or step) produced."""

    name: str
    layer: str
    rows: int | None
    seconds: float
    status: str = "ok"
    # An incremental model's raw rows re-parsed (row grain) or keys recomputed (key grain) by
    # this build; None: built from scratch.
    changed: int | None = None
    unit: str = "raw rows re-parsed"


@dataclass
class BuildSummary:
    """Per-model row counts and timings of one build, plus the data checks' results."""

    build_id: str
    started_at: datetime
    runs: list[ModelRun] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    noise: dict | None = None
    seconds: float = 0.0

    def rows(self, name: str) -> int | None:
        """Row count of the model ``name`` in this build."""
        for run in self.runs:
            if run.name == name:
                return run.rows
        raise KeyError(name)

    def log_line(self) -> str:
        """One line for logs and the CLI."""
        marts = [r for r in self.runs if r.layer == "marts" and not r.name.startswith("int_")]
        counts = ", ".join(f"{r.name}={r.rows}" for r in marts)
        passed = sum(c.passed for c in self.checks)
        refreshed = "".join(
            f"; {r.name}: {r.changed} {r.unit}" for r in self.runs if r.changed is not None
        )
        return (
            f"build {self.build_id}: {len(self.runs)} steps in {self.seconds:.1f}s; "
            f"checks {passed}/{len(self.checks)} passed{refreshed}; {counts}"
        )


_CTE = re.compile(r"(?:\bwith|,)\s*([a-z_][a-z0-9_]*)\s+as\s*\(", re.I)


def _strip_comments(sql: str) -> str:
    return _LINE_COMMENT.sub("", sql)


def discover_models(models_dir: Path = MODELS_DIR) -> list[Model]:
    """All models of all layers, in an order where every model follows its dependencies."""
    found: dict[str, tuple[str, Path, str]] = {}
    for layer in LAYERS:
        for path in sorted((models_dir / layer).glob("*.sql")):
            name = path.stem
            if not _NAME.match(name):
                raise ValueError(f"model file name is not a valid table name: {path}")
            if name in found:
                raise ValueError(f"model {name} is defined twice ({found[name][1]} and {path})")
            found[name] = (layer, path, path.read_text())
    models: dict[str, Model] = {}
    for name, (layer, path, sql) in found.items():
        code = _strip_comments(sql)
        # Inputs are found by name, so a CTE named like another model would read as that model:
        # a dependency it does not have and, for a keyed model, an input hashed into its
        # fingerprint (a full rebuild whenever that model changes).
        shadowing = sorted(set(_CTE.findall(code)) & (set(found) - {name}))
        if shadowing:
            raise ValueError(f"model {name}: a CTE named like the model(s) {shadowing}; rename it")
        depends = frozenset(
            other
            for other in found
            if other != name and re.search(rf"(?<![\w.]){re.escape(other)}\b", code)
        )
        params = tuple(dict.fromkeys(_PARAM.findall(code)))
        read = set(depends) | {
            table for table in incremental.RAW_TABLE.findall(code) if table in _RAW_TABLES
        }
        increment = incremental_keyed.declaration(name, sql, code, read) or incremental.declaration(
            name, sql, code, set(found)
        )
        models[name] = Model(name, layer, path, sql, depends, params, increment)
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    for model in models.values():
        upward = [d for d in model.depends_on if rank[models[d].layer] > rank[model.layer]]
        if upward:
            raise ValueError(
                f"{model.layer} model {model.name} reads later layers' models {sorted(upward)}"
            )
    return _topological(models)


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared SQL macros (``etl/models/macros/*.sql``) the models call: run before
    any model, by :func:`build_marts` and by anything that runs models one by one."""
    for path in sorted(MACROS_DIR.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def _topological(models: dict[str, Model]) -> list[Model]:
    # Layer by layer (staging, marts, noise), then alphabetical among the ready ones.
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    done: set[str] = set()
    ordered: list[Model] = []
    pending = dict(models)
    while pending:
        ready = [m for m in pending.values() if m.depends_on <= done]
        if not ready:
            raise ValueError(f"dependency cycle among models: {sorted(pending)}")
        nxt = min(ready, key=lambda m: (rank[m.layer], m.name))
        ordered.append(nxt)
        done.add(nxt.name)
        del pending[nxt.name]
    return ordered


def _bind(model: Model, params: dict[str, object]) -> dict[str, object]:
    missing = [p for p in model.params if p not in params]
    if missing:
        raise KeyError(f"model {model.name} needs parameters not in the configuration: {missing}")
    return {p: params[p] for p in model.params}


def run_model(con: duckdb.DuckDBPyConnection, model: Model, params: dict[str, object]) -> ModelRun:
    """(Re)create the table of one model and return its row count and duration. Outside a
    build (model tests) the model's incremental state is dropped and its version counted:
    its next build, and that of every model keyed on it, is full."""
    started = time.perf_counter()
    incremental.forget(con, model.name)
    incremental_keyed.bump_version(con, model.name)
    # The table name comes from a validated file name, never from data.
    incremental.create_table_as(con, model.name, model.sql, _bind(model, params))
    rows = con.execute(f"select count(*) from {model.name}").fetchall()[0][0]  # noqa: S608
    return ModelRun(model.name, model.layer, rows, time.perf_counter() - started)


def refresh_model(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    params: dict[str, object],
    *,
    full: bool,
    delta: bool = False,
) -> ModelRun:
    """Bring one model up to date: an incremental model recomputes only what changed (unless
    ``full``), any other model is re-created, and leaves its delta when ``delta`` (a keyed
    model reads it; etl/incremental_keyed.py)."""
    started = time.perf_counter()
    bound = _bind(model, params)
    incremental_keyed.bump_version(con, model.name)
    increment = model.increment
    if increment is None:
        if delta and not full:
            incremental_keyed.rebuild_with_delta(con, model.name, model.sql, bound)
        else:
            incremental.create_table_as(con, model.name, model.sql, bound)
        rows = con.execute(f"select count(*) from {model.name}").fetchall()[0][0]  # noqa: S608
        return ModelRun(model.name, model.layer, rows, time.perf_counter() - started)
    fingerprint = incremental.fingerprint(con, model.sql, bound, MACROS_DIR)
    if isinstance(increment, incremental_keyed.KeyedIncrement):
        fingerprint = incremental_keyed.fingerprint(con, fingerprint, increment)
        target = incremental.Target(model.name, model.sql, bound, fingerprint)
        rows, changed = incremental_keyed.refresh(con, target, increment, full=full)
        unit = f"{increment.key} recomputed"
    else:
        target = incremental.Target(model.name, model.sql, bound, fingerprint)
        rows, changed = incremental.refresh(con, target, increment, full=full)
        unit = "raw rows re-parsed"
    seconds = time.perf_counter() - started
    return ModelRun(model.name, model.layer, rows, seconds, changed=changed, unit=unit)


def refresh_models(
    con: duckdb.DuckDBPyConnection,
    models: list[Model],
    params: dict[str, object],
    *,
    full: bool,
) -> list[ModelRun]:
    """Bring ``models`` (in dependency order) up to date, one by one (:func:`refresh_model`);
    the models a keyed model reads leave their deltas for it, dropped at the end."""
    read_by_key = {
        name
        for model in models
        if isinstance(model.increment, incremental_keyed.KeyedIncrement)
        for name in model.increment.delta_inputs
    }
    incremental_keyed.drop_deltas(con)
    runs = []
    try:
        for model in models:
            run = refresh_model(con, model, params, full=full, delta=model.name in read_by_key)
            runs.append(run)
            log.info(
                "model %s: %d rows in %.2fs%s",
                run.name,
                run.rows or 0,
                run.seconds,
                "" if run.changed is None else f" ({run.changed} {run.unit})",
            )
    finally:
        incremental_keyed.drop_deltas(con)
    return runs


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute("select current_setting(?)", [name]).fetchall()[0][0]


def build_marts(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    noise: bool = True,
    full: bool = False,
) -> BuildSummary:
    """Run every model (staging, marts, noise), the noise step and the data checks on ``con``.

    Raises :class:`DataCheckError` listing every failed check (the tables stay written on
    ``con``; callers inside ``building()`` therefore never publish them). ``threads`` and
    ``memory_limit`` are DuckDB settings for this build (default: DuckDB's own;
    ``memory_limit="auto"``: 3 GB from scratch, 1.5 GB when continuing a previous build).
    ``noise=False`` skips the noise layer and step (model unit tests that do not read them).
    Incremental staging models re-parse only the raw rows changed since the last build;
    ``full=True`` rebuilds them from scratch too (etl/incremental.py).
    """
    started_wall = datetime.now(UTC)
    started = time.perf_counter()
    summary = BuildSummary(build_id=uuid.uuid4().hex[:12], started_at=started_wall)
    ensure_raw_schema(con)
    con.execute(BUILD_RUNS_SCHEMA)
    previous_zone = _setting(con, "TimeZone")
    # Timestamps without an offset are read as UTC, whatever the machine's zone; every local
    # time in the models is computed with an explicit timezone(zone, instant).
    con.execute("set TimeZone = 'UTC'")
    # Row order of the marts carries no meaning; not preserving it lets DuckDB stream.
    con.execute("set preserve_insertion_order = false")
    if threads is not None:
        con.execute(f"set threads = {int(threads)}")
    if memory_limit == AUTO:
        memory_limit = _auto_memory_limit(con, full)
    if memory_limit is not None:
        con.execute(f"set memory_limit = '{_memory_setting(memory_limit)}'")
    params = config.sql_params()
    if noise:
        preload_noise()
    try:
        create_macros(con)
        models = [m for m in discover_models() if noise or m.layer != "noise"]
        if full:
            incremental.clear(con, [m.name for m in models])
        summary.runs.extend(refresh_models(con, models, params, full=full))
        if noise:
            # The noise step: Python over the noise layer's tables (its own row in _build_runs).
            summary.noise = _build_noise(con, config, summary, memory_limit, full)
        checks_started = time.perf_counter()
        summary.checks = run_checks(con)
        failed = [c for c in summary.checks if not c.passed]
        summary.runs.append(
            ModelRun(
                "checks",
                "checks",
                len(summary.checks),
                time.perf_counter() - checks_started,
                "failed" if failed else "ok",
            )
        )
        summary.seconds = time.perf_counter() - started
        _record(con, summary)
        if failed:
            raise DataCheckError(failed)
    finally:
        # Settings take no bound parameters; the value is the session's own, re-validated.
        con.execute(f"set TimeZone = '{_zone_setting(previous_zone)}'")
    # Callers report it: `pagerlens build` on stdout, a sync in its log.
    log.debug(summary.log_line())
    return summary


_preloading: threading.Thread | None = None


def preload_noise() -> None:
    """Import the noise step's modules (scikit-learn, scipy: 3-4 s of CPU) in a thread, once
    per process (_build_noise's import waits for it). ``build`` and ``sync`` call it before
    the writer's private copy (on ext4 a byte copy, one core in the kernel), where a core is
    free; the models, started next, keep both busy."""
    global _preloading
    if _preloading is None and "etl.noise" not in sys.modules:
        _preloading = threading.Thread(
            target=importlib.import_module, args=("etl.noise",), name="import-noise", daemon=True
        )
        _preloading.start()


def _auto_memory_limit(con: duckdb.DuckDBPyConnection, full: bool) -> str:
    """DuckDB's limit for a build: lower when it continues a previous build's incremental
    state (a nightly), the default when it builds from scratch."""
    con.execute(incremental.STATE_SCHEMA)
    continues = con.execute("select count(*) from _incremental_models").fetchall()[0][0]
    return INCREMENTAL_MEMORY_LIMIT if continues and not full else DEFAULT_MEMORY_LIMIT


def _memory_setting(value: str) -> str:
    if not re.fullmatch(
        r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip(), re.IGNORECASE
    ):
        raise ValueError(f"memory_limit must look like '3GB', got {value!r}")
    return value.strip()


_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _bytes(value: str) -> float:
    """'3GB', '18.8 GiB' -> bytes (the forms DuckDB's memory_limit is set and shown in)."""
    number, unit = re.fullmatch(r"([\d.]+)\s*([A-Za-z]+)", _memory_setting(value)).groups()
    return float(number) * _UNITS[unit.lower()]


def _zone_setting(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", value):
        return "UTC"
    return value


def _build_noise(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    summary: BuildSummary,
    memory_limit: str | None,
    full: bool,
) -> dict | None:
    # Imported here: the noise marts pull in scikit-learn, which model unit tests never need.
    from etl.noise import build_noise_marts

    started = time.perf_counter()
    session_limit = _setting(con, "memory_limit")
    limit = min(
        _bytes(NOISE_MEMORY_LIMIT), NOISE_MEMORY_SHARE * _bytes(memory_limit or session_limit)
    )
    con.execute(f"set memory_limit = '{limit / 1e6:.0f}MB'")
    try:
        result = build_noise_marts(con, config, reuse_identities=not full)
    finally:
        _restore_memory_limit(con, memory_limit, session_limit)
    summary.runs.append(ModelRun("noise", "noise", None, time.perf_counter() - started))
    return result


def _restore_memory_limit(con: duckdb.DuckDBPyConnection, given: str | None, shown: str) -> None:
    """Back to the build's limit: the one it was given, else the session's. DuckDB shows a
    limit rounded down to a tenth of a unit, so setting the shown value back would shrink it
    a little at every build; DuckDB's default is restored exactly with ``reset``."""
    if given is not None:
        con.execute(f"set memory_limit = '{_memory_setting(given)}'")
        return
    con.execute("reset memory_limit")
    if _setting(con, "memory_limit") != shown:
        con.execute(f"set memory_limit = '{_memory_setting(shown)}'")


def _record(con: duckdb.DuckDBPyConnection, summary: BuildSummary) -> None:
    finished = datetime.now(UTC)
    con.executemany(
        "insert into _build_runs values (?, ?, ?, ?, ?, ?, ?)",
        [
            [summary.build_id, r.name, r.layer, r.rows, r.seconds, r.status, finished]
            for r in summary.runs
        ],
    )


def build(
    db_path: str | os.PathLike,
    config: Config | None = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = AUTO,
    full: bool = False,
) -> BuildSummary:
    """Rebuild every mart of the warehouse at ``db_path`` and publish it atomically.

    On a failed data check (or any error) the published warehouse is left unchanged.
    ``memory_limit`` bounds DuckDB's memory (it spills to disk beyond it); "auto" (the
    default): 3 GB for a build from scratch, 1.5 GB for one that continues the last build's
    incremental state; None: DuckDB's default. ``full``: rebuild every model from scratch.
    """
    config = config or load_config()
    preload_noise()
    with building(db_path) as con:
        return build_marts(con, config, threads=threads, memory_limit=memory_limit, full=full)
