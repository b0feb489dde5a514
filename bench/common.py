"""What the benchmarks share: the cache directory of generated warehouses and its reuse."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """``PAGERLENS_BENCH_DIR``, default ``$TMPDIR/pagerlens-bench``; created if missing."""
    path = Path(
        os.environ.get("PAGERLENS_BENCH_DIR", Path(tempfile.gettempdir()) / "pagerlens-bench")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def cached_warehouse(
    name: str, make: Callable[[Path], None], *, prefix: str, making: str, made: str
) -> Path:
    """``name`` in :func:`cache_dir`, made by ``make(path)`` on first use and reused after.

    ``prefix``, ``making`` and ``made`` word the progress lines: ``{prefix}{making}`` before,
    with ``{path}`` in ``making`` standing for the file, and ``{prefix}{made} in N s`` after.
    """
    path = cache_dir() / name
    if path.exists():
        print(f"{prefix}reusing {path}", flush=True)
        return path
    print(prefix + making.format(path=path), flush=True)
    started = time.perf_counter()
    make(path)
    print(f"{prefix}{made} in {time.perf_counter() - started:.0f} s", flush=True)
    return path
