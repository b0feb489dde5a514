"""Flapping: one fixed alert (same key, same summary) on some services fires in bursts of
2-6 triggers, each resolved by the integration within minutes; nobody acknowledges them."""

from __future__ import annotations

from simulator.plan import DAY, Plan, poisson
from simulator.scenario import Scenario


def plan(scn: Scenario, rng, c0: int, c1: int, plans: list[Plan]) -> None:
    """Flapping incidents created in [c0, c1)."""
    per_day = 0.15 * min(scn.volume, 4.0)
    for s, rule, labels, key in scn.flapping:
        for _ in range(poisson(rng, per_day * (c1 - c0) / DAY)):
            t = c0 + rng.randrange(c1 - c0)
            for _flap in range(rng.randint(2, 6)):
                up = rng.randint(45, 240)  # the integration resolves within minutes
                plans.append(
                    Plan(
                        t,
                        s,
                        [(t, rule, labels, key)],
                        "flapping",
                        gt=("flapping", s.ref["id"], key, rule.template_id),
                        auto_resolve_at=t + up,
                        ack_prob=0.0,
                    )
                )
                t += up + rng.randint(60, 900)
