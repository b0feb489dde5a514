"""Single storms (etl.noise.single_storms) on hand-made frames: a storm seen once is found by
its dependents closing together after its root, chance coincidences and stray members are not,
and without ``auto_resolved`` nothing changes."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from etl.noise import GroupingSettings, find_groups
from etl.noise.single_storms import _events, _strays
from tests.etl.noise_support import T0

DAY = 86400


def _background(seed: int, services: int, per_day: float, days: int) -> list[dict]:
    """Unrelated incidents: each service pages at random times, a third closed by its
    integration after a lognormal time, the rest by people."""
    rng = random.Random(seed)
    rows = []
    for s in range(services):
        for n in range(int(per_day * days)):
            t = rng.uniform(0, days * DAY)
            rows.append(
                {
                    "incident_id": f"B{s}-{n}",
                    "t": t,
                    "open": rng.lognormvariate(np.log(2400), 1.0),
                    "auto": rng.random() < 0.33,
                    "template": f"Check {n % 4} failed on <*>",
                    "service_id": f"svc{s}",
                }
            )
    return rows


def _storm(start: float, recovery: float, root: str, dependents: list[str]) -> list[dict]:
    """A root failing at ``start`` (closed by a person when it recovers) and two incidents on
    each dependent, closed by their integrations 60-240 s after the root."""
    rows = [
        {
            "incident_id": "S-root",
            "t": start,
            "open": recovery - start,
            "auto": False,
            "template": "Postgres down on <*>",
            "service_id": root,
        }
    ]
    for d, service in enumerate(dependents):
        for k in range(2):
            created = start + 40 + 90 * d + 50 * k
            rows.append(
                {
                    "incident_id": f"S-{service}-{k}",
                    "t": created,
                    "open": recovery + 60 + 60 * d + 30 * k - created,
                    "auto": True,
                    "template": f"Upstream error {k} on <*>",
                    "service_id": service,
                }
            )
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["created_at"] = T0 + pd.to_timedelta(frame["t"], unit="s")
    frame["resolved_at"] = frame["created_at"] + pd.to_timedelta(frame["open"], unit="s")
    frame["auto_resolved"] = frame["auto"]
    frame["template_id"] = frame["template"]
    return frame.drop(columns=["t", "open", "auto"])


def test_a_storm_seen_once_is_one_occurrence_of_its_services() -> None:
    rows = _background(3, services=30, per_day=1.0, days=28)
    rows += _storm(10 * DAY + 3600, 10 * DAY + 3600 + 2400, "db", ["api", "web", "worker"])
    result = find_groups(_frame(rows))
    figures = result.quality["single_storms"]
    assert figures["used"] and figures["storms"] == 1
    found = result.assignments[result.assignments["incident_id"].str.startswith("S-")]
    assert found["occurrence_id"].nunique() == 1
    assert len(found) == 7  # the root and the six dependents' incidents
    group = result.groups.set_index("group_id").loc[found["group_id"].iloc[0]]
    assert group["service_ids"] == ["api", "db", "web", "worker"]
    # No background incident is put in any occurrence.
    assert result.assignments["incident_id"].str.startswith("S-").all()


def test_without_auto_resolved_single_storms_are_not_looked_for() -> None:
    rows = _background(3, services=30, per_day=1.0, days=28)
    rows += _storm(10 * DAY + 3600, 10 * DAY + 3600 + 2400, "db", ["api", "web", "worker"])
    frame = _frame(rows).drop(columns="auto_resolved")
    result = find_groups(frame)
    assert result.groups.empty
    assert "single_storms" not in result.quality


def test_a_chain_whose_first_incident_recovers_last_has_no_root() -> None:
    """Three services failing and recovering within minutes, but the first to fail is the
    last to recover and nothing outside resolved just before them: not an event."""
    settings = GroupingSettings()
    times = np.array([0.0, 60.0, 120.0])
    durations = np.array([2000.0, 1800.0, 1750.0])  # ends 2000, 1860, 1870
    services = np.array([0, 1, 2])
    events, sizes = _events(times, durations, services, np.ones(3, bool), settings)
    assert events == [] and sizes.shape == (0, 2)
    # The first to fail recovering first makes it the root: one event of 3 services.
    events, sizes = _events(
        times, np.array([1700.0, 1700.0, 1700.0]), services, np.ones(3, bool), settings
    )
    assert sizes.tolist() == [[3, 0]]


def test_strays_are_counted_on_the_same_windows_on_other_days() -> None:
    """An incident of another service created in the window and resolved in the window,
    one and two days later, counts (half of the shifts that fit hold one)."""
    times = np.array([0.0, 1 * DAY + 100, 2 * DAY + 100, 2 * DAY + 200, 3 * DAY])
    ends = times + np.array([1000.0, 1000.0, 1000.0, 50.0, 1000.0])
    services = np.array([0, 1, 2, 0, 3])
    eligible = np.ones(5, dtype=bool)
    expected = _strays(
        (DAY + 0.0, DAY + 300.0),
        (DAY + 900.0, DAY + 1300.0),
        times,
        ends,
        eligible,
        services,
        exclude=np.array([0]),
        days=1,
    )
    # Shifts -1 (window at day 0: the first incident is service 0, excluded) and +1 (day 2:
    # service 2's incident, created at 100 and resolved at 1100): 0 and 1.
    assert expected == 0.5
