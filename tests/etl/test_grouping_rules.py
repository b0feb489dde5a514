"""Template mining on real alert-rule templates, against drain3.

The real templates come from ``realdata/alert_templates`` of the shared material (Prometheus
rules of awesome-prometheus-alerts and kube-prometheus, ``tests/shared_material.py``). Their
``{{ $labels.x }}`` / ``{{ $value }}`` slots are filled with varied, realistic values (seeded,
``bench/corpora.py``, shared with the benchmarks), and the templates mined from the filled
texts are scored against the rule each text came from.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.corpora import drain3_templates, load_rules, realdata_corpora, score
from etl.grouping import mask_summary, mine_templates
from tests.shared_material import needs_shared, shared_file

ALERT_TEMPLATES = "realdata/alert_templates"


Method = Callable[[list[str]], list[str]]
METHODS: dict[str, Method] = {
    "pagerlens": mine_templates,
    "pagerlens_mask_only": lambda texts: [mask_summary(t) for t in texts],
    "drain3_default": lambda texts: drain3_templates(texts, masked=False),
    "drain3_masked": lambda texts: drain3_templates(texts, masked=True),
}


def compare_on_realdata(
    rules: list[dict], instances: int = 8, seed: int = 11
) -> dict[str, dict[str, dict]]:
    """Scores of every method on every corpus shape."""
    results: dict[str, dict[str, dict]] = {}
    for shape, (texts, labels) in realdata_corpora(rules, instances, seed).items():
        results[shape] = {name: score(labels, method(texts)) for name, method in METHODS.items()}
    return results


@pytest.fixture(scope="module")
def realdata_scores() -> dict[str, dict[str, dict]]:
    return compare_on_realdata(load_rules(shared_file(ALERT_TEMPLATES)))


@needs_shared(ALERT_TEMPLATES)
@pytest.mark.parametrize("shape", ["summary", "description", "alertmanager"])
def test_real_templates_are_recovered(realdata_scores: dict, shape: str) -> None:
    ours = realdata_scores[shape]["pagerlens"]
    print(shape, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in ours.items()})
    # Measured (8 texts per rule, seed 11): ARI 0.87 / 0.93 / 0.97, rules recovered exactly
    # 0.89 / 0.89 / 0.98 for summary / description / alertmanager (docs/grouping.md).
    assert ours["ari"] >= 0.85
    assert ours["homogeneity"] >= 0.97
    assert ours["completeness"] >= 0.98
    assert ours["rules_exact"] >= 0.85


@needs_shared(ALERT_TEMPLATES)
@pytest.mark.parametrize("shape", ["summary", "description", "alertmanager"])
def test_beats_drain3_on_real_templates(realdata_scores: dict, shape: str) -> None:
    ours = realdata_scores[shape]["pagerlens"]
    for baseline in ("drain3_default", "drain3_masked"):
        theirs = realdata_scores[shape][baseline]
        print(
            shape,
            baseline,
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in theirs.items()},
        )
        if shape == "alertmanager" and baseline == "drain3_masked":
            # Measured: drain3 with its example masking wins on this shape (its prefix tree
            # keys on the alertname, the 2nd token): 0.989 vs 0.977 rules exact. Stay close.
            assert ours["rules_exact"] >= theirs["rules_exact"] - 0.03
            continue
        assert ours["rules_exact"] >= theirs["rules_exact"]
        assert ours["ari"] >= theirs["ari"] - 0.005


@needs_shared(ALERT_TEMPLATES)
def test_filled_corpus_is_varied() -> None:
    """Guard against a filler that makes the task trivial: most texts are distinct."""
    rules = load_rules(shared_file(ALERT_TEMPLATES))
    texts, labels = realdata_corpora(rules)["description"]
    assert len(set(labels)) > 900
    assert len(set(texts)) > 0.6 * len(texts)
