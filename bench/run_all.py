"""`make bench`: run every benchmark, each comparing against its own baseline in the same run.

Each bench script prints its figures; this runner prints a summary of which ran and how long.
Pass `--quick` (make bench ARGS=--quick) for the small sizes only. Figures are recorded by hand in
docs/benchmarks.md with the date and machine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ORDER = [
    "bench_generate.py",
    "bench_sync.py",
    "bench_build.py",
    "bench_nightly.py",
    "bench_grouping.py",
    "bench_templates.py",
    "bench_grouping_quality.py",
    "bench_report.py",
    "bench_dashboard.py",
    "bench_export.py",
    "bench_live.py",
]


def main(argv: list[str]) -> int:
    only = [a for a in argv if not a.startswith("-")]
    flags = [a for a in argv if a.startswith("-")]
    scripts = [BENCH_DIR / name for name in ORDER if (BENCH_DIR / name).exists()]
    if only:
        scripts = [s for s in scripts if any(o in s.name for o in only)]
    results = []
    for script in scripts:
        print(f"\n=== {script.name} {' '.join(flags)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *flags])
        results.append((script.name, code, time.perf_counter() - started))
    print("\n=== summary")
    for name, code, seconds in results:
        print(f"{name:<22} {'ok' if code == 0 else f'FAILED ({code})':<12} {seconds:8.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
