"""Groups on busier simulated accounts (scale 4 and more), on each of the fixed draws
QUALITY_DRAWS: few chance groups, planted storms still recovered, occurrences not chance
bursts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sklearn.metrics import adjusted_rand_score

from tests.conftest import QUALITY_DRAWS
from tests.etl.noise_support import (
    _build_noise,
    _components,
    _draw_id,
)


def _storm_ari(path: Path, storms: list[dict]) -> float:
    """Adjusted Rand index of incident-to-storm assignment over the incidents in a planted
    storm or a found occurrence (as test_planted_storms_are_recovered)."""
    truth = {i: s["storm_id"] for s in storms for i in s["incident_ids"]}
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(
            "select incident_id, occurrence_id from int_incident_noise "
            "where occurrence_id is not null"
        ).df()
    found = dict(zip(found["incident_id"], found["occurrence_id"], strict=True))
    ids = sorted(set(truth) | set(found))
    return adjusted_rand_score(
        [truth.get(i, f"none-{i}") for i in ids], [found.get(i, f"none-{i}") for i in ids]
    )


def _flapping_quality(path: Path, flapping: list[dict]) -> tuple[float, float]:
    """Precision and recall of ``int_incident_noise.is_flapping`` against the planted flaps."""
    truth = {i for f in flapping for i in f["incident_ids"]}
    with duckdb.connect(str(path), read_only=True) as con:
        flagged = {
            row[0]
            for row in con.execute(
                "select incident_id from int_incident_noise where is_flapping"
            ).fetchall()
        }
    hits = len(truth & flagged)
    precision, recall = hits / max(len(flagged), 1), hits / max(len(truth), 1)
    print(f"flapping precision {precision:.3f} recall {recall:.3f} ({len(truth)} planted)")
    return precision, recall


def _busy_account_groups(tmp_path: Path, seed: int, end, days: int, scale: int) -> tuple:
    """(groups, groups joining unrelated services, storm ARI, build result) of one account;
    asserts the flapping flags on it (docs/grouping.md, section 2: the chance test per alert
    type holds precision and recall >= 0.93 on every benchmark account, tuning and held out)."""
    account_module = pytest.importorskip("simulator.account")
    account = account_module.generate_account(seed=seed, days=days, scale=scale, end=end)
    path, result = _build_noise(tmp_path, account)
    component = _components(account.ground_truth["service_dependencies"])
    with duckdb.connect(str(path), read_only=True) as con:
        groups = con.execute("select group_id, service_ids from alert_groups").df()
    ari = _storm_ari(path, account.ground_truth["storms"])
    precision, recall = _flapping_quality(path, account.ground_truth["flapping"])
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    unrelated = [
        list(row.service_ids)
        for row in groups.itertuples()
        if len({component.get(s, s) for s in row.service_ids}) > 1
    ]
    print(
        f"scale {scale}: {len(groups)} groups ({len(unrelated)} of unrelated services), "
        f"storm ARI {ari:.3f}, calibration {result['grouping']['calibration']}"
    )
    return groups, unrelated, ari, result


@pytest.mark.parametrize("draw", QUALITY_DRAWS, ids=_draw_id)
def test_busy_services_form_few_chance_groups(tmp_path: Path, draw) -> None:
    """Scale 4, 21 days (~7 incidents per service and day). Co-firing alone: the fixed
    per-pair test let 21 groups of unrelated services through on one account; the
    decoy-calibrated cut-off and joint events kept it to a few, with storm ARI 0.40 / 0.47 /
    0.25 on the three draws. With the account's service graph (storms read from it first,
    etl/noise/dependency_storms.py; co-firing groups it holds apart dropped), measured
    2026-12-07: storm ARI 0.881 / 0.941 / 0.814, 17 / 16 / 11 groups, of which 0 / 0 / 1
    joins services the truth calls unrelated (seed 23: one service the graph does not
    mention, where co-firing alone decides). Tested at two strengths (any burst, and one whose
    services recover together), 2026-12-07: 0.915 / 0.981 / 0.858. With four joint decoys (two
    before), seed 23's chance group of unrelated services is gone: 19 / 17 / 11 groups, none
    unrelated, ARI 0.915 / 0.967 / 0.886. Held out: docs/grouping.md, section 3."""
    seed, end = draw
    groups, unrelated, ari, result = _busy_account_groups(
        tmp_path, seed=seed, end=end, days=21, scale=4
    )
    calibration = result["grouping"]["calibration"]
    for level in ("alert_type_pairs", "service_pairs"):
        figures = calibration[level]
        # Whatever passes, the decoy passed at most max_decoy_ratio as many pairs.
        if figures["calibrated"]:
            assert figures["decoy_pairs_passing"] <= 0.1 * figures["pairs_passing"]
        else:
            assert figures["pairs_passing"] == 0
    # The storms are the graph's now: joint events among what is left may not calibrate.
    joint = calibration["joint_events"]
    if joint["calibrated"]:
        assert joint["decoy_triples_passing"] <= 0.05 * joint["triples_passing"]
    assert result["grouping"]["dependency_groups"] >= 5
    for figures in result["grouping"]["dependency_calibration"].values():
        assert not figures["kept"] or figures["chance"] < 0.05
    assert not unrelated, unrelated
    assert ari >= 0.8


@pytest.mark.parametrize("draw", QUALITY_DRAWS, ids=_draw_id)
def test_storms_are_recovered_on_a_busier_account(tmp_path: Path, draw) -> None:
    """Scale 2, 42 days: co-firing alone reached storm ARI 0.232 / 0.723 / 0.676 on the three
    draws; with the service graph 0.983 / 0.944 / 0.990 (2026-12-07), no group of unrelated
    services (none on 13 accounts, tuning and held out)."""
    seed, end = draw
    groups, unrelated, ari, _ = _busy_account_groups(tmp_path, seed=seed, end=end, days=42, scale=2)
    assert len(groups) >= 1
    assert not unrelated
    assert ari >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("draw", QUALITY_DRAWS, ids=_draw_id)
def test_occurrences_on_very_busy_services_are_not_chance_bursts(tmp_path: Path, draw) -> None:
    """Scale 8, 14 days (~17 incidents per service and day): three incidents on three
    services within ten minutes happen by chance all the time. Plain bursts made two groups
    of unrelated services (114 incidents in occurrences, none of them in a planted storm);
    with occurrences that must also resolve together (a joint core) where decoys reproduce
    the bursts, and groups dropped when decoys reproduce even those, chance groups are rare.

    Measured on the three draws with co-firing alone: 0 / 0 / 1 groups, the one (seed 23)
    joining three unrelated services; no planted storm incident found (storm recall 0). With
    the service graph (2026-12-07): 15 / 9 / 10 groups, none of unrelated services, 121 of
    170 / 72 of 113 / 69 of 100 occurrence incidents in planted storms (the rest: busy
    dependents paging in the same minutes). Tested at two
    strengths (any burst, and one whose services recover together; 40 decoys): storm ARI
    0.788 / 0.742 / 0.762, storm recall 0.890 / 0.771 / 0.589. With a third strength (every
    service of the neighbourhood recovering together): ARI 0.765 / 0.839 / 0.841, recall
    0.850 / 0.880 / 0.726. With the weakest strength led by the supporting service: ARI
    0.802 / 0.857 / 0.851, recall 0.919 / 0.880 / 0.743. Held out, docs/grouping.md,
    section 3."""
    account_module = pytest.importorskip("simulator.account")
    seed, end = draw
    account = account_module.generate_account(seed=seed, days=14, scale=8, end=end)
    path, result = _build_noise(tmp_path, account)
    component = _components(account.ground_truth["service_dependencies"])
    with duckdb.connect(str(path), read_only=True) as con:
        groups = con.execute("select group_id, service_ids from alert_groups").df()
        found = con.execute(
            "select incident_id from int_incident_noise where occurrence_id is not null"
        ).df()["incident_id"]
    unrelated = [
        list(row.service_ids)
        for row in groups.itertuples()
        if len({component.get(s, s) for s in row.service_ids}) > 1
    ]
    storm_incidents = {i for s in account.ground_truth["storms"] for i in s["incident_ids"]}
    in_storms = int(found.isin(storm_incidents).sum())
    # Chance repeats of busy self-resolving alerts are not flapping (precision was 0.54-0.61
    # here before the chance test per alert type).
    precision, recall = _flapping_quality(path, account.ground_truth["flapping"])
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    print(
        f"scale 8: {len(groups)} groups ({len(unrelated)} of unrelated services), "
        f"{in_storms} of {len(found)} occurrence incidents in planted storms"
    )
    assert not unrelated, unrelated
    ari = _storm_ari(path, account.ground_truth["storms"])
    print(f"storm ARI {ari:.3f}")
    assert ari >= 0.75
    # Storms in busy neighbourhoods are found too, not only those of quiet ones.
    recall = in_storms / len(storm_incidents)
    print(f"storm recall {recall:.3f}")
    assert recall >= 0.7, recall
    # Occurrences of groups of related services are mostly planted storms.
    related = groups[[len({component.get(s, s) for s in g}) == 1 for g in groups["service_ids"]]]
    if len(related) == len(groups) and len(found):
        assert in_storms >= 0.5 * len(found), (in_storms, len(found))
    for figures in result["grouping"].get("occurrence_calibration", {}).values():
        if not figures.get("dropped"):
            assert figures["decoy_occurrences"] <= 0.4 * figures["occurrences"]
