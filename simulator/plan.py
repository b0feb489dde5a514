"""Planned incidents and the arithmetic every alert process shares.

A :class:`Plan` is an incident before its lifecycle is simulated: when, on which service,
with which alerts, of which kind, and which ground-truth bucket it belongs to. The processes
(:mod:`simulator.processes`) make plans; the lifecycle (:mod:`simulator.lifecycle`) turns each
into a :class:`~simulator.state.SimIncident`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import KW_ONLY, dataclass

from simulator.org import ServiceInfo

DAY = 86400
WEEK = 7 * DAY
CHUNK = DAY  # one day per chunk keeps the scale generator's memory small


def poisson(rng, lam: float) -> int:
    """Poisson sample (Knuth for small means, normal approximation for large ones)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def season_weight(weekday: int, hour: int) -> float:
    """Relative alert rate at a local hour: changes (deploys, traffic) follow the working day."""
    if weekday < 5:
        if 9 <= hour < 18:
            return 4.5
        if 7 <= hour < 9 or 18 <= hour < 21:
            return 1.1
        return 0.35
    if 9 <= hour < 21:
        return 0.55
    return 0.3


@dataclass(slots=True, eq=False)
class Plan:
    """A planned incident before its lifecycle is simulated (cheap to sort and number)."""

    t: int
    service: ServiceInfo
    alerts: list  # [(t, rule, labels, alert_key)]
    kind: str
    _: KW_ONLY
    priority: int | None = None
    gt: tuple | None = None  # ground-truth bucket key
    stale: bool = False
    skew: bool = False
    auto_resolve_at: int | None = None  # integration resolves everything at this time
    responders: int = 1
    ack_prob: float = 1.0


def short_hash(*parts: object) -> str:
    """A short stable id part (storm and outage ids)."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]


# Mean weekly weight, so a service's base rate per day is its average daily rate.
MEAN_SEASON = sum(season_weight(d, h) for d in range(7) for h in range(24)) / 168.0
