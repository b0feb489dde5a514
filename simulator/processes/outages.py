"""Major outages: about one every 10 days per unit, P1 (35%) or P2 incidents on an API, web or
worker service and up to two of its dependents, with 2-4 responders; two are planted still
open (stale open majors) about 12 and 9.6 days before the end."""

from __future__ import annotations

import math

from simulator._common import iso
from simulator.plan import DAY, Plan, poisson, short_hash
from simulator.scenario import Scenario


def plan(scn: Scenario, rng, c0: int, c1: int, plans: list[Plan]) -> None:
    """Major-outage incidents created in [c0, c1); each outage goes to the ground truth."""
    candidates = [s for s in scn.org.service_info if s.kind in ("api", "web", "worker")]
    if not candidates:
        candidates = scn.org.service_info
    n = poisson(rng, (c1 - c0) / (10 * DAY) * max(1.0, scn.scale))
    starts = [(c0 + rng.randrange(max(1, c1 - c0 - 7200)), False) for _ in range(n)]
    starts += [(t, True) for t in scn.stale_major_times if c0 <= t < c1]
    for start, stale in starts:
        s = rng.choice(candidates)
        involved = [s] + [scn.org.service_info[d] for d in s.dependents[: rng.randint(0, 2)]]
        priority = 1 if rng.random() < 0.35 else 2
        outage_id = "outage-" + short_hash(scn.seed, s.ref["id"], start)
        duration = int(rng.lognormvariate(math.log(2.5 * 3600), 0.5))
        gt = ("major", outage_id)
        for k, svc in enumerate(involved):
            t = start + k * rng.randint(60, 600)
            rule = scn.storm_rule(svc)
            plans.append(
                Plan(
                    t,
                    svc,
                    [scn.new_alert(rng, svc, t, rule)],
                    "major",
                    priority=priority,
                    gt=gt,
                    stale=stale,
                    responders=rng.randint(2, 4),
                )
            )
        scn.truth.majors.append(
            {
                "outage_id": outage_id,
                "service_ids": [v.ref["id"] for v in involved],
                "start": iso(start),
                "end": None if stale else iso(start + duration),
                "priority": f"P{priority}",
                "incident_ids": [],
                "stale_open": stale,
                "_duration": duration,
            }
        )
