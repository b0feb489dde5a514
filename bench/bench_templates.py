"""Benchmark: ``mine_templates`` on 1M distinct realistic alert summaries, old vs new.

The summaries are the real Prometheus rules of ``../shared/realdata/alert_templates``
(awesome-prometheus-alerts, kube-prometheus) in the three shapes of ``tests/etl/test_grouping.py``
(summary annotation, first description line, Alertmanager's ``[FIRING:n] Name (...)``), their
slots filled with the test's realistic values (seeded) until the batch holds ``--size`` distinct
texts. The same batch is mined by the current ``etl.grouping.mine_templates`` and by the one at
``--baseline`` (a git revision, loaded from ``git show``), each in its own child process
(single process each, one after the other), best of ``--repeat`` runs. Wall and CPU time of
the call only (the CPU time is the steadier figure on a shared machine); generating the texts
is not timed.

    .venv/bin/python bench/bench_templates.py                 # 1M summaries
    .venv/bin/python bench/bench_templates.py --quick         # 100k
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SECONDS_1M = 10.0
BASELINE = "7cec058"  # mine_templates before the Loghub-driven rework


def _summaries(size: int, seed: int = 5) -> list[str]:
    from tests.etl.test_grouping import _WORDS, _first_line, _label_value, fill_template, load_rules

    rng = random.Random(seed)
    rules = load_rules()
    seen: dict[str, None] = {}
    while len(seen) < size:
        rule = rng.choice(rules)
        shape = rng.randrange(3)
        if shape == 0 and rule["summary_template"]:
            text = fill_template(rule["summary_template"], rng)
        elif shape == 1 and rule["description_template"]:
            text = fill_template(_first_line(rule["description_template"]), rng)
        else:
            others = [
                _label_value("instance", rng),
                rng.choice(_WORDS["job"]),
                rng.choice(_WORDS["namespace"]),
            ]
            text = (
                f"[FIRING:{rng.randint(1, 6)}] {rule['alert']} "
                f"({' '.join(others)} {rule['severity'] or 'warning'})"
            )
        if text:
            seen[text] = None
    return list(seen)


def _load(revision: str | None):
    if revision is None:
        from etl import grouping

        return grouping
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{revision}:etl/grouping.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "grouping_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("grouping_baseline", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["grouping_baseline"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _child(batch: Path, revision: str | None, repeat: int) -> dict:
    summaries = pickle.loads(batch.read_bytes())
    module = _load(revision)
    best = best_cpu = float("inf")
    templates: list[str] = []
    for _ in range(repeat):
        cpu_started = time.process_time()
        started = time.perf_counter()
        templates = module.mine_templates(summaries)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu_started)
    return {
        "seconds": round(best, 2),
        "cpu_seconds": round(best_cpu, 2),
        "templates": len(set(templates)),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k summaries")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--revision", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch:
        print(json.dumps(_child(args.batch, args.revision or None, args.repeat)))
        return 0
    size = args.size or (100_000 if args.quick else 1_000_000)
    started = time.perf_counter()
    summaries = _summaries(size)
    print(
        f"{len(summaries):,} distinct summaries generated in {time.perf_counter() - started:.1f} s"
    )
    with tempfile.TemporaryDirectory() as folder:
        batch = Path(folder) / "batch.pickle"
        batch.write_bytes(pickle.dumps(summaries))
        results = {}
        for label, revision in (("baseline " + args.baseline, args.baseline), ("current", "")):
            command = [
                sys.executable,
                __file__,
                "--batch",
                str(batch),
                "--repeat",
                str(args.repeat),
            ]
            command += ["--revision", revision]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[label] = json.loads(output.strip().splitlines()[-1])
            print(
                f"{label:>20}: {results[label]['seconds']:.2f} s "
                f"(CPU {results[label]['cpu_seconds']:.2f} s), "
                f"{results[label]['templates']:,} templates",
                flush=True,
            )
    current = results["current"]["seconds"]
    if size >= 1_000_000:
        verdict = "met" if current < TARGET_SECONDS_1M else "MISSED"
        print(f"current 1M: {current:.2f} s vs target {TARGET_SECONDS_1M:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
