"""Background alerts: per service a Poisson process following the owning team's working day.

A few alert types per service dominate (Zipf); "noisy" types mostly resolve themselves within
minutes, unacknowledged (planted noise). The planted clock-skewed resolves start here too.
"""

from __future__ import annotations

import math

from simulator.plan import MEAN_SEASON, Plan, poisson
from simulator.scenario import Scenario


def plan(scn: Scenario, rng, c0: int, c1: int, plans: list[Plan]) -> None:
    """Background and clock-skewed incidents created in [c0, c1)."""
    weights = scn.hour_weights(c0, c1)
    hour0 = c0 - c0 % 3600
    # Mean weekly weight is ~1.0, so base_rate_per_day is the average daily rate.
    norm = 1.0 / MEAN_SEASON
    for s in scn.org.service_info:
        zone = scn.org.team_info[s.team_index].home_zone
        rate_h = s.base_rate_per_day * scn.volume * norm / 24.0
        w = weights[zone]
        for h, wh in enumerate(w):
            n = poisson(rng, rate_h * wh)
            for _ in range(n):
                t = hour0 + h * 3600 + rng.randrange(3600)
                rule, noisy = scn.pick_rule(rng, s)
                alerts = [scn.new_alert(rng, s, t, rule)]
                # Services with alert grouping collect related alerts into one incident.
                if s.grouping and rng.random() < 0.35:
                    for _extra in range(rng.randint(1, 3)):
                        r2, _ = scn.pick_rule(rng, s)
                        alerts.append(scn.new_alert(rng, s, t + rng.randint(20, 240), r2))
                if noisy and rng.random() < 0.8:
                    # Resolves itself before anyone gets to it (the classic noise).
                    plans.append(
                        Plan(
                            t,
                            s,
                            alerts,
                            "noise",
                            gt=("noise",),
                            auto_resolve_at=t + int(rng.lognormvariate(math.log(240), 0.8)),
                            ack_prob=0.0,
                        )
                    )
                else:
                    plans.append(Plan(t, s, alerts, "background"))
    _plan_skewed(scn, rng, c0, c1, plans)


def _plan_skewed(scn: Scenario, rng, c0: int, c1: int, plans: list[Plan]) -> None:
    """Short incidents whose resolve the sender's late clock puts before their creation."""
    for t in scn.skew_times:
        if c0 <= t < c1:
            s = rng.choice(scn.org.service_info)
            rule, _ = scn.pick_rule(rng, s)
            plans.append(
                Plan(
                    t,
                    s,
                    [scn.new_alert(rng, s, t, rule)],
                    "noise",
                    gt=("noise",),
                    skew=True,
                    auto_resolve_at=t + 30,
                    ack_prob=0.0,
                )
            )
