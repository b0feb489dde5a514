"""Maintenance windows: weekly windows in which some services page for nothing; the alerts
resolve inside the window and nobody acknowledges them."""

from __future__ import annotations

from simulator._common import iso
from simulator.plan import DAY, Plan
from simulator.scenario import Scenario


def plan(scn: Scenario, rng, c0: int, c1: int, plans: list[Plan]) -> None:
    """Maintenance incidents created in [c0, c1); the windows go to the ground truth."""
    for s, weekday, hour, dur, rule in scn.maintenance:
        bucket = scn.truth.maintenance[s.ref["id"]]
        day = c0 - c0 % DAY
        while day < c1:
            # 1970-01-01 was a Thursday (weekday 3).
            if (day // DAY + 3) % 7 == weekday:
                ws, we = day + hour * 3600, day + hour * 3600 + dur * 60
                if c0 <= ws and we <= scn.end and ws < c1:
                    bucket["windows"].append([iso(ws), iso(we)])
                    for _ in range(rng.randint(1, 3)):
                        t = ws + rng.randrange(60, dur * 60 - 300)
                        alert = scn.new_alert(rng, s, t, rule)
                        res = min(we - 1, t + rng.randint(120, 1500))
                        plans.append(
                            Plan(
                                t,
                                s,
                                [alert],
                                "maintenance",
                                gt=("maintenance", s.ref["id"]),
                                auto_resolve_at=res,
                                ack_prob=0.0,
                            )
                        )
            day += DAY
