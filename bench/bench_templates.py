"""Benchmark: ``mine_templates`` on 1M distinct realistic alert summaries, old vs new.

Two batches of ``--size`` distinct summaries (seeded):

- ``simulator``: what the simulated PagerDuty sends (``simulator.templates``: its rules, label
  values and the formats of Alertmanager, Datadog, Nagios and e-mail), 400 services with 5-9
  alert types each, Zipf-weighted, one alert rendered per draw until the batch is full;
- ``rules``: the real Prometheus rules of ``../shared/realdata/alert_templates``
  (awesome-prometheus-alerts, kube-prometheus) in the three shapes of
  ``bench/corpora.py`` (summary annotation, first description line, Alertmanager's
  ``[FIRING:n] Name (...)``), their slots filled with the tests' values: random addresses and
  long floats in nearly every text (611k distinct tokens in 1M texts), the harsher case.

Each batch is mined by the current ``etl.grouping.mine_templates`` and by the one at
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


def _simulated_summaries(size: int, seed: int = 7, services: int = 400) -> list[str]:
    from simulator.templates import (
        KIND_SOURCES,
        LabelMaker,
        load_rules,
        render_alert,
        rules_for_kind,
    )

    rng = random.Random(seed)
    rules = load_rules()
    kinds = sorted(KIND_SOURCES)
    formats = ("alertmanager", "alertmanager_summary", "alertmanager_legacy", "datadog")
    formats += ("nagios", "email")
    teams = ("payments", "checkout", "search", "orders", "identity", "billing", "catalog")
    pool = []
    for index in range(services):
        kind = kinds[index % len(kinds)]
        team = teams[index % len(teams)]
        maker = LabelMaker(f"{team}-{kind}-{index // len(teams)}", team, kind, rng)
        candidates = rules_for_kind(kind, rules)
        picked = rng.sample(candidates, min(len(candidates), rng.randint(5, 9)))
        pool.append((maker, picked, rng.choice(formats)))
    seen: dict[str, None] = {}
    while len(seen) < size:
        maker, picked, fmt = pool[rng.randrange(services)]
        rule = picked[min(int(rng.paretovariate(1.2)) - 1, len(picked) - 1)]
        labels = maker.labels(rule.labels, rng)
        firing = rng.randint(1, 4)
        summary = render_alert(rule, labels, maker, fmt, "2026-11-27T00:00:00Z", rng, firing)[0]
        seen[summary] = None
    return list(seen)


def _rule_summaries(size: int, seed: int = 5) -> list[str]:
    from bench.corpora import alertmanager_summary, fill_template, first_line, load_rules

    rng = random.Random(seed)
    rules = load_rules()
    seen: dict[str, None] = {}
    while len(seen) < size:
        rule = rng.choice(rules)
        shape = rng.randrange(3)
        if shape == 0 and rule["summary_template"]:
            text = fill_template(rule["summary_template"], rng)
        elif shape == 1 and rule["description_template"]:
            text = fill_template(first_line(rule["description_template"]), rng)
        else:
            text = alertmanager_summary(rule, rng)
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
    verdicts = []
    for corpus, make in (("simulator", _simulated_summaries), ("rules", _rule_summaries)):
        started = time.perf_counter()
        summaries = make(size)
        seconds = time.perf_counter() - started
        print(f"{corpus}: {len(summaries):,} distinct summaries generated in {seconds:.1f} s")
        current = _compare(summaries, args.baseline, args.repeat)
        if size >= 1_000_000:
            verdict = "met" if current < TARGET_SECONDS_1M else "MISSED"
            verdicts.append(f"{corpus} {current:.2f} s: {verdict}")
    if verdicts:
        print(f"current, 1M vs target {TARGET_SECONDS_1M:.0f} s: " + "; ".join(verdicts))
    return 0


def _compare(summaries: list[str], baseline: str, repeat: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        batch = Path(folder) / "batch.pickle"
        batch.write_bytes(pickle.dumps(summaries))
        results = {}
        for label, revision in (("baseline " + baseline, baseline), ("current", "")):
            command = [
                sys.executable,
                __file__,
                "--batch",
                str(batch),
                "--repeat",
                str(repeat),
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
    return results["current"]["seconds"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
