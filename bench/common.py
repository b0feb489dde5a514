"""What the benchmarks share: the cache directory of generated warehouses and its reuse."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

SIMULATOR = Path(__file__).resolve().parents[1] / "simulator"


def cache_dir() -> Path:
    """``PAGERLENS_BENCH_DIR``, default ``$TMPDIR/pagerlens-bench``; created if missing."""
    path = Path(
        os.environ.get("PAGERLENS_BENCH_DIR", Path(tempfile.gettempdir()) / "pagerlens-bench")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


@cache
def simulator_fingerprint() -> str:
    """8 hex digits over the simulator's code and data: a cached account made by another
    version of the simulator is not the account this checkout would generate."""
    digest = hashlib.blake2b(digest_size=4)
    for path in sorted(SIMULATOR.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".sql"):
            digest.update(path.relative_to(SIMULATOR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_warehouse(
    name: str, make: Callable[[Path], None], *, prefix: str, making: str, made: str
) -> Path:
    """``name`` in :func:`cache_dir`, made by ``make(path)`` on first use and reused after.

    The file name carries :func:`simulator_fingerprint` (``sim-....duckdb`` ->
    ``sim-....-sim<fingerprint>.duckdb``), so a change to the simulator makes a new account
    instead of silently reusing the old one; files of other fingerprints are left for the
    user to delete (their names are printed).

    ``prefix``, ``making`` and ``made`` word the progress lines: ``{prefix}{making}`` before,
    with ``{path}`` in ``making`` standing for the file, and ``{prefix}{made} in N s`` after.
    """
    stem, dot, suffix = name.partition(".")
    path = cache_dir() / f"{stem}-sim{simulator_fingerprint()}{dot}{suffix}"
    others = [cache_dir() / name, *cache_dir().glob(f"{stem}-sim*{dot}{suffix}")]
    stale = sorted(p.name for p in others if p != path and p.exists())
    if stale:
        print(f"{prefix}older simulator versions' files in {cache_dir()}: {', '.join(stale)}")
    if path.exists():
        print(f"{prefix}reusing {path}", flush=True)
        return path
    print(prefix + making.format(path=path), flush=True)
    started = time.perf_counter()
    make(path)
    print(f"{prefix}{made} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def window_slots(rule: str) -> set[int]:
    """Half hours of the week (0 = Monday 00:00) of a rule like 'weekly Tue 03:00-04:30 UTC'
    (a maintenance window, planted or recommended); the grouping-quality benchmark and the
    noise tests score recommended windows against planted ones with it."""
    _, day, span, _zone = rule.split(" ")
    start, end = (int(t[:2]) * 2 + int(t[3:]) // 30 for t in span.split("-"))
    base = _WEEKDAYS.index(day) * 48
    return {(base + s) % (7 * 48) for s in range(start, end if end > start else end + 48)}
