"""The maintenance-window rule (docs/grouping.md, section 3, "Maintenance windows by a chance
test"): a weekly window of a few unacknowledged incidents, seen in each of three weeks, is
recommended even on an alert type that also fires at other times; a window seen in two weeks
only, a busy alert type's chance clusters and a daily habit are not."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from etl.config import Config
from etl.noise import NoiseSettings, build_recommendations, find_groups
from etl.noise.weekly_windows import _spread_chance, _week_cover
from tests.etl.noise_support import T0

DAY = 86_400
HISTORY = 21 * DAY  # three weeks from T0, a Monday


def _frame(
    times: dict[str, list[float]],
    acked: set[str] = frozenset(),
    acked_at: set[float] = frozenset(),
) -> pd.DataFrame:
    """Incidents per alert type (``{type: seconds after T0}``), each on a service of its own;
    the types in ``acked`` were acknowledged, and so were the incidents created at a time in
    ``acked_at``; the others resolved unacknowledged. Every
    account also has an acknowledged ``background`` type every 3 hours over the three weeks,
    which spans the history."""
    times = {**times, "background": [t * 3 * 3600 + 600 for t in range(HISTORY // (3 * 3600))]}
    acked = set(acked) | {"background"}
    rows = [(kind, t) for kind, seconds in times.items() for t in seconds]
    was_acked = [k in acked or t in acked_at for k, t in rows]
    created = [T0 + pd.Timedelta(seconds=t) for _, t in rows]
    n = len(rows)
    return pd.DataFrame(
        {
            "incident_id": [f"I{i:04d}" for i in range(n)],
            "created_at": pd.to_datetime(created, utc=True),
            "noise_reason": [None if a else "auto_resolved_unacked" for a in was_acked],
            "first_ack_at": [
                c + pd.Timedelta(minutes=5) if a else pd.NaT
                for a, c in zip(was_acked, created, strict=True)
            ],
            "is_major": False,
            "seconds_to_resolve": 1200.0,
            "auto_resolved": [not a for a in was_acked],
            "template_id": [f"t-{k}" for k, _ in rows],
            "template": [f"{k} job <*> failed" for k, _ in rows],
            "service_id": [f"S-{k}" for k, _ in rows],
            "service_name": [k for k, _ in rows],
            "team_id": "T1",
            "team_name": "Ops",
            "alert_count": 1,
            "total_notifications": 1,
            "sleep_interruptions": 0,
            "is_flapping": False,
            "html_url": "https://acme.pagerduty.com/incidents/I0",
            "group_id": None,
            "occurrence_id": None,
        }
    )


def _windows(frame: pd.DataFrame) -> dict[str, str]:
    """The recommended maintenance windows, by service."""
    recs = build_recommendations(
        frame, None, find_groups(frame.iloc[:0]), Config(), NoiseSettings()
    )
    made = recs[recs["kind"] == "maintenance_window"]
    return {row["service_id"]: json.loads(row["evidence"])["window"] for _, row in made.iterrows()}


def _wednesday(week: int, hour: float) -> float:
    return (7 * week + 2) * DAY + hour * 3600


def test_a_weekly_window_seen_in_three_weeks_is_recommended() -> None:
    # Wednesday 02:00-03:00: one to three incidents a week, as the simulator plants them,
    # spread over both half hours. The same alert also fires, unacknowledged, at random
    # other times: the window stands out against its own rate.
    rng = random.Random(5)
    nightly = [_wednesday(0, h) for h in (2.1, 2.6)] + [_wednesday(1, h) for h in (2.05, 2.7)]
    nightly += [_wednesday(2, h) for h in (2.4, 2.8)]
    nightly += [round(rng.uniform(0, HISTORY)) for _ in range(12)]
    windows = _windows(_frame({"nightly": nightly}))
    assert windows == {"S-nightly": "weekly Wed 02:00-03:00 UTC"}


def test_a_window_with_one_acknowledged_incident_is_still_recommended() -> None:
    # Seven incidents in Wednesday 02:00-03:00 over three weeks, one of them acknowledged
    # (86 % ignored): a real maintenance window with an ordinary incident inside it is still
    # a window (maintenance_ignored_share = 0.8; it was the 90 % of stop_paging before, which
    # missed such windows: docs/grouping.md, "Maintenance windows with an incident inside").
    # With three of the seven acknowledged (57 %) the window is not proposed: it would hide
    # incidents somebody answered.
    nightly = [_wednesday(0, h) for h in (2.1, 2.6)] + [_wednesday(1, h) for h in (2.05, 2.7)]
    nightly += [_wednesday(2, h) for h in (2.4, 2.5, 2.8)]
    once = {_wednesday(1, 2.05)}
    assert _windows(_frame({"nightly": nightly}, acked_at=once)) == {
        "S-nightly": "weekly Wed 02:00-03:00 UTC"
    }
    thrice = once | {_wednesday(0, 2.6), _wednesday(2, 2.5)}
    assert _windows(_frame({"nightly": nightly}, acked_at=thrice)) == {}


def test_a_window_seen_in_two_weeks_only_is_not() -> None:
    # Five incidents in the first two weeks and none in the third: two sightings are not
    # yet a weekly habit (maintenance_min_weeks = 3), however unlikely by chance.
    twice = [_wednesday(0, h) for h in (2.05, 2.1, 2.4)] + [_wednesday(1, h) for h in (2.6, 2.8)]
    assert _windows(_frame({"twice": twice})) == {}
    # All in one week: a one-off night.
    once = [_wednesday(0, h) for h in (2.05, 2.1, 2.4, 2.6, 2.8)]
    assert _windows(_frame({"once": once})) == {}


def test_a_busy_alerts_chance_clusters_are_not_a_window() -> None:
    # 450 unacknowledged incidents at random times in three weeks: some half hours of the
    # week hold several of them in every week, by chance alone.
    rng = random.Random(13)
    busy = [rng.uniform(0, HISTORY) for _ in range(450)]
    assert _windows(_frame({"busy": busy})) == {}


def test_a_daily_habit_is_not_a_weekly_window() -> None:
    # An unacknowledged alert every day at 14:10 and 14:40: Wednesday 14:00-15:00 holds six
    # of its 42 incidents, far more than its average rate puts there, but no more than the
    # same hour on the other days. (The densest-half-hour rule before the chance test
    # proposed "weekly Mon 14:00-15:00" here.)
    daily = [d * DAY + m * 60 for d in range(21) for m in (14 * 60 + 10, 14 * 60 + 40)]
    assert _windows(_frame({"daily": daily})) == {}


def test_a_window_spread_over_its_weeks_is_less_likely_than_its_count() -> None:
    # Four incidents in Wednesday 02:00-03:00, in each of the three weeks, on an alert type
    # that also pages unacknowledged by day seven times. The count alone (4 where chance puts
    # 0.07) is not unlikely enough over 2,688 windows; four incidents that also cover all
    # three weeks are (chance spreads four incidents over three weeks 44 % of the time):
    # the rule's chance is of both (docs/grouping.md, "A window's chance counts its weeks").
    nightly = [_wednesday(0, 2.2), _wednesday(1, 2.6), _wednesday(2, 2.1), _wednesday(2, 2.7)]
    nightly += [d * 3 * DAY + (11 + d % 5) * 3600 for d in range(7)]
    assert _windows(_frame({"nightly": nightly})) == {"S-nightly": "weekly Wed 02:00-03:00 UTC"}


def test_the_week_cover_is_the_occupancy_chance() -> None:
    # n incidents in 3 equally likely weeks cover all three with chance
    # sum_j (-1)^j C(3, j) (1 - j/3)^n (inclusion-exclusion): 6/27 for 3, 36/81 for 4.
    cover = _week_cover(3, 3, 8)
    for n in range(9):
        exact = sum((-1) ** j * math.comb(3, j) * (1 - j / 3) ** n for j in range(4))
        assert cover[n] == pytest.approx(exact, abs=1e-12)
    assert cover[4] == pytest.approx(36 / 81)
    # At least 3 of 5 weeks: 1 - P(1 or 2 distinct weeks).
    n = 4
    at_most_two = (5 * 1 + math.comb(5, 2) * (2**n - 2)) / 5**n
    assert _week_cover(5, 3, n)[n] == pytest.approx(1 - at_most_two)
    assert not _week_cover(2, 3, 6).any()  # two weeks cannot hold three


def test_the_spread_chance_sums_the_count_and_its_weeks() -> None:
    count, mean = np.array([4, 6]), np.array([0.07, 0.5])
    got = _spread_chance(count, mean, np.array([3, 3]), 3, limit=1.0)
    cover = _week_cover(3, 3, 200)
    for k in range(2):
        exact = sum(poisson.pmf(n, mean[k]) * cover[n] for n in range(count[k], 200))
        assert got[k] == pytest.approx(exact, rel=1e-9)
        # Never more likely than the count alone, and at least the count times its spread.
        tail = poisson.sf(count[k] - 1, mean[k])
        assert tail * cover[count[k]] <= got[k] <= tail
