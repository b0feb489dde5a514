"""Storms: a database or queue with 2+ dependents goes down (about every 24 days) and every
dependent service fires within minutes; those incidents resolve when the root recovers."""

from __future__ import annotations

import math

from simulator._common import iso
from simulator.plan import DAY, Plan, poisson, short_hash
from simulator.scenario import Scenario


def plan(scn: Scenario, rng, c0: int, c1: int, plans: list[Plan]) -> None:
    """Storm incidents created in [c0, c1); each storm goes to the ground truth."""
    for root in scn.storm_roots:
        for _ in range(poisson(rng, (c1 - c0) / (24 * DAY))):
            start = c0 + rng.randrange(max(1, c1 - c0 - 3600))
            recovery = start + int(rng.lognormvariate(math.log(40 * 60), 0.5))
            storm_id = "storm-" + short_hash(scn.seed, root.ref["id"], start)
            gt = ("storm", storm_id)
            rule = scn.storm_rule(root)
            root_alert = scn.new_alert(rng, root, start, rule)
            plans.append(Plan(start, root, [root_alert], "storm_root", gt=gt))
            service_ids = [root.ref["id"]]
            last = start
            for d in root.dependents:
                dep = scn.org.service_info[d]
                service_ids.append(dep.ref["id"])
                last = _plan_dependent(scn, rng, dep, start, recovery, gt, last, plans)
            scn.truth.storms.append(
                {
                    "storm_id": storm_id,
                    "root_service_id": root.ref["id"],
                    "start": iso(start),
                    "end": iso(max(recovery, last)),
                    "service_ids": service_ids,
                    "incident_ids": [],
                }
            )


def _plan_dependent(scn, rng, dep, start: int, recovery: int, gt: tuple, last: int, plans) -> int:
    """1-3 alerts on one dependent (one incident if it groups alerts); the latest start."""
    alerts = []
    for _k in range(rng.randint(1, 3)):
        t = start + rng.randint(30, 480)
        r, _ = scn.pick_rule(rng, dep)
        alerts.append(scn.new_alert(rng, dep, t, r))
    alerts.sort(key=lambda a: a[0])
    groups = [alerts] if dep.grouping else [[a] for a in alerts]
    for group in groups:
        t = group[0][0]
        last = max(last, t)
        plans.append(
            Plan(
                t,
                dep,
                group,
                "storm",
                gt=gt,
                auto_resolve_at=recovery + rng.randint(30, 300),
                ack_prob=0.5,
            )
        )
    return last
