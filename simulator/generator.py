"""The incidents of a simulated account, generated chunk by chunk.

Time is cut into day-long chunks. Each chunk has its own seeded RNG streams (planning and
lifecycle), so the chunks can be generated one after another with bounded memory (the scale
generator) and still give exactly the incidents that :func:`simulator.account.generate_account`
returns. Planning runs the alert processes (:mod:`simulator.processes`); simulating runs each
planned incident's lifecycle (:mod:`simulator.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Iterator

from simulator._common import seeded_rng
from simulator.lifecycle import simulate_incident
from simulator.plan import CHUNK, Plan
from simulator.processes import (
    background,
    custom_fields,
    flapping,
    maintenance,
    merges,
    outages,
    storms,
)
from simulator.scenario import Scenario
from simulator.state import SimIncident

# The order the processes draw from a chunk's planning RNG (it fixes the account).
PROCESSES = (background, flapping, maintenance, storms, outages)


class AccountGenerator(Scenario):
    """Generates the organisation and, chunk by chunk, the incidents of an account."""

    def chunk_bounds(self) -> list[tuple[int, int, int]]:
        """(index, start, end) of every chunk, in time order."""
        out, c0, index = [], self.start, 0
        while c0 < self.end:
            c1 = min(c0 + CHUNK, self.end)
            out.append((index, c0, c1))
            c0, index = c1, index + 1
        return out

    def chunks(self) -> Iterator[list[SimIncident]]:
        """Yield the incidents chunk by chunk (a day each), in created_at order."""
        number, alert = 1, 1
        for index, c0, c1 in self.chunk_bounds():
            plans = self.plan_chunk(index, c0, c1)
            sims = self.simulate_chunk(index, plans, number, alert)
            number += len(sims)
            alert += sum(len(sim.alerts) for sim in sims)
            yield sims

    def plan_chunk(self, index: int, c0: int, c1: int) -> list[Plan]:
        """The incidents created in [c0, c1), planned but not yet simulated.

        Planning has its own RNG stream, so a chunk's plans (and therefore how many incident
        numbers and alert ids it uses) are known without simulating earlier chunks: the scale
        generator plans every chunk cheaply, then simulates chunks in parallel.
        """
        rng = seeded_rng(self.seed, "plan", index)
        plans: list[Plan] = []
        for process in PROCESSES:
            process.plan(self, rng, c0, c1, plans)
        plans = [p for p in plans if c0 <= p.t < c1]
        plans.sort(key=lambda p: (p.t, p.service.index))
        return plans

    def plan_sizes(self, plans: list[Plan]) -> tuple[int, int]:
        """(incident numbers, alert ids) a chunk's plans consume."""
        end = self.end
        return len(plans), sum(1 for p in plans for a in p.alerts if a[0] < end)

    def simulate_chunk(
        self, index: int, plans: list[Plan], number_base: int, alert_base: int
    ) -> list[SimIncident]:
        """Simulate planned incidents, numbering them from number_base (alerts from alert_base)."""
        rng = seeded_rng(self.seed, "life", index)
        sims = []
        alert = alert_base
        for number, plan in enumerate(plans, start=number_base):
            sim = simulate_incident(self, rng, plan, number, alert)
            alert += len(sim.alerts)
            sims.append(sim)
        # Responders merge duplicates once both exist and record custom fields
        # (simulator/processes/merges.py, custom_fields.py).
        planted = merges.plant(self, index, plans, sims)
        custom_fields.plant(self, index, plans, sims)
        for plan, sim in zip(plans, sims, strict=True):
            self.truth.record(plan, sim)
        for merge in planted:
            self.truth.record_merge(*merge)
        return sims

    def ground_truth(self) -> dict:
        """The planted truth, JSON-serialisable (see docs/simulator.md)."""
        return self.truth.as_dict(self.seed, self.start, self.end, self.org)
