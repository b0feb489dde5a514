"""Template mining beyond alerts: Loghub-2k (LogPAI's labelled log templates), from
``realdata/loghub`` of the shared material (``tests/shared_material.py``), scored by LogPAI's
grouping accuracy (``bench/corpora.py``) and against drain3."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.corpora import drain3_templates, grouping_accuracy
from etl.grouping import mine_templates
from tests.shared_material import needs_shared, shared_file

# --- generalisation beyond alerts: Loghub-2k (LogPAI's labelled log templates) ----------------

LOGHUB_ORIGINAL = "realdata/loghub/loghub_2k_original"
# Loghub-2.0's corrected ground truth of the same 2k lines (14 systems: no Android, no Windows),
# what its evaluator scores "Loghub-2k" against; the acceptance figures are on these.
LOGHUB_CORRECTED = "realdata/loghub/loghub_2k_corrected"


def loghub_corrected_scores(folder: Path) -> dict[str, float]:
    """pagerlens' GA per system on the corrected Loghub-2k ground truth (one configuration)."""
    results: dict[str, float] = {}
    for path in sorted(folder.glob("*/*_structured_corrected.csv")):
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        contents = [r["Content"] for r in rows]
        truth = [r["EventId"] for r in rows]
        results[path.parent.name] = grouping_accuracy(truth, mine_templates(contents))
    return results


@needs_shared(LOGHUB_CORRECTED)
def test_loghub_grouping_accuracy() -> None:
    """Acceptance: mean GA >= 0.95 and no system below 0.80 on the corrected Loghub-2k sets,
    untuned (no per-system regexes or parameters)."""
    results = loghub_corrected_scores(shared_file(LOGHUB_CORRECTED))
    print({name: round(value, 3) for name, value in results.items()})
    assert len(results) == 14
    mean = sum(results.values()) / len(results)
    # Measured: mean 0.985, worst HPC 0.951 (docs/grouping.md has every system).
    assert mean >= 0.95
    assert min(results.values()) >= 0.80


def test_grouping_accuracy_is_logpai_ga() -> None:
    """A line counts only when its predicted group is exactly its true group."""
    truth = ["a", "a", "b", "b", "c"]
    assert grouping_accuracy(truth, ["x", "x", "y", "y", "z"]) == 1.0
    assert grouping_accuracy(truth, ["x", "x", "x", "x", "z"]) == 0.2  # a+b merged: 4 wrong
    assert grouping_accuracy(truth, ["x", "w", "y", "y", "z"]) == 0.6  # a split: 2 wrong


def loghub_scores(folder: Path) -> dict[str, dict[str, float]]:
    """GA per Loghub-2k system for pagerlens and drain3 (example masking), untuned."""
    results: dict[str, dict[str, float]] = {}
    for path in sorted(folder.glob("*/*_structured.csv")):
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        contents = [r["Content"] for r in rows]
        truth = [r["EventId"] for r in rows]
        results[path.parent.name] = {
            "pagerlens": grouping_accuracy(truth, mine_templates(contents)),
            "drain3_masked": grouping_accuracy(truth, drain3_templates(contents, masked=True)),
        }
    return results


@pytest.mark.slow
@needs_shared(LOGHUB_ORIGINAL)
def test_generalises_to_loghub() -> None:
    results = loghub_scores(shared_file(LOGHUB_ORIGINAL))
    assert len(results) == 16
    ours = sum(r["pagerlens"] for r in results.values()) / len(results)
    theirs = sum(r["drain3_masked"] for r in results.values()) / len(results)
    print({k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()})
    print(f"mean GA pagerlens {ours:.3f} drain3_masked {theirs:.3f}")
    # Measured: 0.984 vs 0.767 (published, per-dataset-tuned Drain: 0.866, Brain: 0.983).
    assert ours >= 0.95
    assert ours >= theirs
