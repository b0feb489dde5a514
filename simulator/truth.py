"""The ground truth an account plants: storms, flapping, maintenance, majors, noise, dirt.

Processes add what they plan (storms, outages, maintenance windows) while planning; every
simulated incident is then recorded as an event ``(id, open at end, skewed, bucket, summary)``,
and each merge of a duplicate into a surviving incident as ``("merge", id, survivor, at)``.
Events are plain tuples so the scale generator's worker processes can ship them back and the
parent can apply them in order (docs/simulator.md, "Ground truth").
"""

from __future__ import annotations

from simulator._common import iso
from simulator.org import Organisation
from simulator.plan import Plan
from simulator.state import SimIncident

# The first item of a merge event (incident ids are upper-case, so never this).
MERGE_EVENT = "merge"


class GroundTruth:
    """What was planted so far, in the order it was planted."""

    def __init__(self) -> None:
        self.storms: list[dict] = []
        self.flapping: dict[tuple[str, str], dict] = {}
        self.maintenance: dict[str, dict] = {}  # by service id, filled by the set-up
        self.majors: list[dict] = []
        self.noise: list[str] = []
        self.skew: list[str] = []
        self.open: list[str] = []
        self.merges: list[dict] = []  # duplicates merged into a surviving incident, in order
        # Ground-truth facts of simulated incidents, in order (workers ship these back).
        self.events: list[tuple] = []

    def mark(self) -> tuple:
        """A position in the planned ground truth, for :meth:`planned_since`."""
        return (
            len(self.storms),
            len(self.majors),
            {k: len(v["windows"]) for k, v in self.maintenance.items()},
        )

    def planned_since(self, mark: tuple) -> tuple:
        """Storms, outages and maintenance windows planned since ``mark`` (picklable)."""
        n_storms, n_major, n_windows = mark
        return (
            self.storms[n_storms:],
            self.majors[n_major:],
            {k: v["windows"][n_windows.get(k, 0) :] for k, v in self.maintenance.items()},
        )

    def merge_planned(self, piece: tuple) -> None:
        """Add another generator's planned truth for one chunk (chunks merged in order)."""
        storms, majors, windows = piece
        self.storms.extend(storms)
        self.majors.extend(majors)
        for k, w in windows.items():
            self.maintenance[k]["windows"].extend(w)

    def reset(self) -> None:
        """Forget accumulated truth (a worker keeps only what one chunk needs)."""
        self.storms.clear()
        self.majors.clear()
        for v in self.maintenance.values():
            v["windows"].clear()
            v["incident_ids"].clear()
        self.flapping.clear()
        self.noise.clear()
        self.skew.clear()
        self.open.clear()
        self.merges.clear()
        self.events.clear()

    def record(self, plan: Plan, sim: SimIncident) -> None:
        """Record a simulated incident (and keep the event for the parent process)."""
        inc_id = sim.incident["id"]
        open_at_end = sim.incident["status"] != "resolved"
        summary = sim.alerts[0]["summary"] if sim.alerts else sim.incident["title"]
        event = (inc_id, open_at_end, plan.skew, plan.gt, summary)
        self.events.append(event)
        self.apply(event)

    def record_merge(self, incident_id: str, survivor_id: str, at: int) -> None:
        """Record that ``incident_id`` was merged into ``survivor_id`` at ``at``."""
        event = (MERGE_EVENT, incident_id, survivor_id, iso(at))
        self.events.append(event)
        self.apply(event)

    def apply(self, event: tuple) -> None:
        """Record one simulated incident, or one merge, in the ground truth (also used to
        apply workers' events)."""
        if event[0] == MERGE_EVENT:
            _, incident_id, survivor_id, at = event
            self.merges.append(
                {
                    "incident_id": incident_id,
                    "merged_into_incident_id": survivor_id,
                    "merged_at": at,
                }
            )
            return
        inc_id, open_at_end, skew, gt, summary = event
        if open_at_end:
            self.open.append(inc_id)
        if skew:
            self.skew.append(inc_id)
        if gt is None:
            return
        kind = gt[0]
        if kind in ("noise", "flapping", "maintenance"):
            self.noise.append(inc_id)
        if kind == "flapping":
            _, service_id, key, template_id = gt
            bucket = self.flapping.setdefault(
                (service_id, key),
                {
                    "service_id": service_id,
                    "alert_key": key,
                    "template": template_id,
                    "summary": summary,
                    "incident_ids": [],
                },
            )
            bucket["incident_ids"].append(inc_id)
        elif kind == "maintenance":
            self.maintenance[gt[1]]["incident_ids"].append(inc_id)
        elif kind == "storm":
            storm = self.storm(gt[1])
            if storm is not None:
                storm["incident_ids"].append(inc_id)
        elif kind == "major":
            outage = self.outage(gt[1])
            if outage is not None:
                outage["incident_ids"].append(inc_id)

    def storm(self, storm_id: str) -> dict | None:
        """The planned storm with this id (the most recent first), or None."""
        for st in reversed(self.storms):
            if st["storm_id"] == storm_id:
                return st
        return None

    def outage(self, outage_id: str) -> dict | None:
        """The planned major outage with this id (the most recent first), or None."""
        for mo in reversed(self.majors):
            if mo["outage_id"] == outage_id:
                return mo
        return None

    def as_dict(self, seed: int, start: int, end: int, org: Organisation) -> dict:
        """The planted truth, JSON-serialisable (see docs/simulator.md)."""
        storms = [dict(s) for s in self.storms if s["incident_ids"]]
        majors = []
        for m in self.majors:
            if not m["incident_ids"]:
                continue
            out = {k: v for k, v in m.items() if not k.startswith("_")}
            majors.append(out)
        return {
            "seed": seed,
            "start": iso(start),
            "end": iso(end),
            "storms": storms,
            "flapping": list(self.flapping.values()),
            "maintenance_windows": [m for m in self.maintenance.values() if m["windows"]],
            "major_outages": majors,
            "noise_incident_ids": list(self.noise),
            "clock_skew_incident_ids": list(self.skew),
            "open_incident_ids_at_end": list(self.open),
            # Resolved by a merge (resolve_reason merge_resolve_reason); the survivor holds
            # their alerts (simulator/processes/merges.py).
            "merged_incidents": list(self.merges),
            # PagerDuty keeps dependencies in its separate service-dependencies API.
            "service_dependencies": [
                {
                    "service_id": s.ref["id"],
                    "depends_on": [org.service_info[d].ref["id"] for d in s.depends_on],
                }
                for s in org.service_info
                if s.depends_on
            ],
        }
