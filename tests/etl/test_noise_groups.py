"""Co-firing groups (etl.noise.groups) on hand-made frames: storms vs noise, determinism,
joint events and cores, decoy histories, the calibrated cut-off."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from etl.noise import (
    GroupingSettings,
    find_groups,
)
from etl.noise.decoys import _decoy_days, _decoy_times
from tests.etl.noise_support import (
    T0,
    _incident_frame,
    _storm_frame,
)


def test_cofiring_services_form_one_group_and_noise_does_not() -> None:
    frame = _storm_frame()
    result = find_groups(frame)
    assert len(result.groups) == 1
    group = result.groups.iloc[0]
    assert group["service_ids"] == ["api", "checkout", "db"]
    assert group["occurrences"] == 5
    storm_ids = {f"{p}{i}" for i in range(5) for p in ("DB", "API", "CO")}
    assert set(result.assignments["incident_id"]) == storm_ids
    assert result.assignments.groupby("occurrence_id").size().tolist() == [3] * 5


def test_grouping_is_deterministic_and_order_independent() -> None:
    frame = _storm_frame()
    first = find_groups(frame)
    shuffled = find_groups(frame.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(
        first.assignments.sort_values("incident_id").reset_index(drop=True),
        shuffled.assignments.sort_values("incident_id").reset_index(drop=True),
    )
    assert first.groups["group_id"].tolist() == shuffled.groups["group_id"].tolist()


def test_rare_coincidences_are_not_groups() -> None:
    frame = _storm_frame()
    # Only one co-firing: below min_cooccurrences, whatever the lift.
    single = frame[
        ~frame["incident_id"].isin([f"{p}{i}" for i in range(1, 5) for p in ("API", "CO")])
    ]
    assert find_groups(single, GroupingSettings()).groups.empty


def test_joint_core_needs_three_services_resolving_together() -> None:
    """A burst's joint core: incidents on three services, each open >= joint_min_duration,
    created and resolved within joint_link_seconds of a neighbour inside the burst."""
    from etl.noise.occurrences import _joint_cores

    settings = GroupingSettings()
    times = np.array([0.0, 60.0, 120.0, 5000.0, 5060.0, 5120.0])
    services = np.array([0, 1, 2, 0, 1, 2])
    burst = np.array([0, 0, 0, 1, 1, 1])
    valid = np.array([True, True])
    # Burst 0 resolves together (one root recovering); burst 1 resolves hours apart.
    durations = np.array([1800.0, 1750.0, 1700.0, 900.0, 5000.0, 12000.0])
    cores = _joint_cores(times, durations, services, burst, valid, settings)
    assert cores.tolist() == [True, False]
    # Too short to count (they resolve together whenever they fire together).
    short = np.array([300.0, 250.0, 200.0, 900.0, 5000.0, 12000.0])
    assert not _joint_cores(times, short, services, burst, valid, settings).any()
    # Two services only.
    assert not _joint_cores(
        times, durations, np.array([0, 1, 1, 0, 1, 2]), burst, valid, settings
    ).any()


def test_joint_events_need_resolving_together() -> None:
    """The same co-firing history: with resolution times that agree (the dependents recover
    with the root) the storm is a group; when only the creation times agree, the joint-event
    confirmation vetoes the cross-service link."""
    frame = _storm_frame()
    rng = random.Random(4)
    storm = frame["incident_id"].str.match(r"(DB|API|CO)\d")
    recovery = {i: 1800 + rng.randint(0, 1800) for i in range(5)}
    resolved = []
    for row in frame.itertuples():
        if storm[row.Index]:
            n = int(row.incident_id[-1])
            db = frame.loc[frame["incident_id"] == f"DB{n}", "created_at"].iloc[0]
            resolved.append(db + pd.Timedelta(seconds=recovery[n] + rng.randint(0, 200)))
        else:
            resolved.append(row.created_at + pd.Timedelta(seconds=rng.randint(60, 7200)))
    together = frame.assign(resolved_at=resolved)
    result = find_groups(together)
    assert len(result.groups) == 1
    assert result.groups.iloc[0]["service_ids"] == ["api", "checkout", "db"]
    assert result.quality["calibration"]["joint_events"]["events"] == 5
    shuffled = find_groups(together.sample(frac=1.0, random_state=3))  # order-independent
    pd.testing.assert_frame_equal(
        result.assignments.sort_values("incident_id").reset_index(drop=True),
        shuffled.assignments.sort_values("incident_id").reset_index(drop=True),
    )
    # Same creation times, but each storm incident resolves on its own schedule.
    apart = together.copy()
    apart.loc[storm, "resolved_at"] = apart.loc[storm, "created_at"] + pd.to_timedelta(
        [rng.randint(700, 20000) for _ in range(int(storm.sum()))], unit="s"
    )
    assert find_groups(apart).groups.empty
    # Without resolution times for most incidents: co-firing alone, as before.
    unknown = together.assign(resolved_at=pd.NaT)
    assert len(find_groups(unknown).groups) == 1
    assert find_groups(unknown).quality["joint_events"] is False


def _decoyed(decoy, days: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random alert times on 5 services over ``days`` days from T0, and ``decoy``'s
    shifted times, checked for what every decoy keeps: the time of day, the window, the seed."""
    rng = np.random.default_rng(3)
    times = T0.timestamp() + rng.uniform(0, days * 86400, n)
    service = rng.integers(0, 5, n)
    shifted = decoy(times, service, seed=7)
    assert np.allclose(np.mod(shifted, 86400), np.mod(times, 86400))
    assert shifted.min() >= T0.timestamp() and shifted.max() < T0.timestamp() + days * 86400
    assert decoy(times, service, seed=7).tolist() == shifted.tolist()  # seeded
    return times, service, shifted


def test_weekday_decoy_keeps_day_type_and_hour() -> None:
    times, _, shifted = _decoyed(_decoy_days, days=21, n=600)
    weekend = lambda t: ((np.floor(t / 86400) + 3) % 7) >= 5  # noqa: E731
    assert (weekend(shifted) == weekend(times)).all()
    assert (shifted != times).mean() > 0.9  # (nearly) every day moves


def test_decoy_keeps_hour_of_day_and_moves_whole_services() -> None:
    times, service, shifted = _decoyed(_decoy_times, days=20, n=400)
    for s in range(5):
        moved = np.round((shifted - times)[service == s] / 86400) % 20
        assert len(set(moved)) == 1 and moved[0] != 0  # one whole-day shift per service


def test_no_cross_service_groups_without_a_calibrated_cut_off() -> None:
    """Without a cut-off that the decoy confirms, nothing is grouped, and the model figures
    say why."""
    frame = _storm_frame()
    # A decoy ratio of zero with a decoy that passes nothing still keeps the real storm ...
    assert len(find_groups(frame, GroupingSettings(max_decoy_ratio=0.0)).groups) == 1
    # ... while services firing independently (same daily profile) give no cut-off at all.
    rng = random.Random(2)
    rows = [
        {
            "incident_id": f"X{service}-{n}",
            "t": day * 86400 + 9 * 3600 + rng.randint(0, 1800),
            "template": f"{service} latency high",
            "service_id": service,
        }
        for service in ("a", "b", "c", "d")
        for n, day in enumerate(rng.sample(range(30), 12))
    ]
    result = find_groups(_incident_frame(rows).assign(template_id=lambda f: f["template"]))
    assert result.groups.empty
    assert result.quality["calibration"]["cross_service_groups"].startswith("none")
