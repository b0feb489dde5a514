"""The simulated PagerDuty account: data model, deterministic generation and as-of views.

``generate_account(seed, days, scale, end)`` builds an organisation (:mod:`simulator.org`)
and its incidents (:mod:`simulator.generator`) over ``[end - days, end)``. The same seed and
end give byte-identical objects. Every API object follows the shapes of PagerDuty's OpenAPI spec
(``components/schemas``: Incident, LogEntry and subtypes, Alert, Service, Team, User,
EscalationPolicy, Schedule, Oncall, Priority). The HTTP server (``simulator/server.py``)
serves these objects; the scale generator (``simulator/generate.py``) streams the same
incidents straight into the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from simulator.dependencies import depends_on_ids
from simulator.generator import AccountGenerator
from simulator.org_model import ApiObjects
from simulator.scenario import default_end, default_volume
from simulator.state import SimIncident, derive_incident_state

ACCOUNT_TIME_ZONE = "UTC"
ONCALL_LOOKAHEAD_DAYS = 14


@dataclass
class SimAccount(ApiObjects):
    """A complete simulated PagerDuty account over ``[start, end)`` (UTC): the organisation's
    API objects (its ``oncalls`` cover ``[start, end + 14 days)``) and the incidents."""

    seed: int
    start: datetime
    end: datetime
    account_time_zone: str
    incidents: list[SimIncident]  # ascending incident created_at
    ground_truth: dict  # JSON-serialisable, see docs/simulator.md
    token: str  # the API token the simulated server accepts
    # Service id -> the ids of the services it depends on (PagerDuty's Service Graph, served
    # by GET /service_dependencies/technical_services/{id}: simulator/dependencies.py).
    service_dependencies: dict[str, list[str]] = field(default_factory=dict)

    def incident_by_id(self, incident_id: str) -> SimIncident | None:
        """The incident with this id, or None (built lazily, then O(1))."""
        index = self.__dict__.get("_by_id")
        if index is None:
            index = {i.incident["id"]: i for i in self.incidents}
            self.__dict__["_by_id"] = index
        return index.get(incident_id)


def account_digest(account: SimAccount) -> str:
    """SHA-256 over everything the account serves and plants, in a canonical JSON encoding.

    Two accounts with the same digest answer every API request identically: the tests use it
    to prove the simulated account does not depend on the machine, the date or ``../shared``.
    """
    h = hashlib.sha256()

    def feed(obj) -> None:
        h.update(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
        h.update(b"\n")

    feed([account.seed, account.start.isoformat(), account.end.isoformat()])
    feed(account.account_time_zone)
    for part in account.api_objects().values():
        feed(part)
    for inc in account.incidents:
        feed([inc.incident, inc.log_entries, inc.alerts, inc.entry_times, inc.alert_times])
    feed(account.ground_truth)
    feed(account.token)
    # account.service_dependencies is not fed: the ground truth lists the same graph.
    return h.hexdigest()


def account_token(seed: int) -> str:
    """The simulator's API token for a seed (not a secret: it only opens the simulator)."""
    return "sim-" + hashlib.sha256(f"pagerlens-sim-token:{seed}".encode()).hexdigest()[:24]


def generate_account(
    seed: int = 7,
    days: int = 90,
    scale: float = 1.0,
    end: datetime | None = None,
    *,
    volume: float | None = None,
) -> SimAccount:
    """Generate a deterministic simulated account covering ``[end - days, end)``.

    ``end`` defaults to today's 00:00 UTC. ``scale`` multiplies the organisation (scale 1:
    6 teams, 25 services, 40 users) and the incident volume with it (``volume`` overrides
    the per-service volume multiplier, see :func:`default_volume`).
    """
    gen = AccountGenerator(seed=seed, days=days, scale=scale, end=end, volume=volume)
    incidents: list[SimIncident] = []
    for chunk in gen.chunks():
        incidents.extend(chunk)
    return SimAccount(
        **gen.org.api_objects(),
        seed=seed,
        start=gen.start_dt,
        end=gen.end_dt,
        account_time_zone=ACCOUNT_TIME_ZONE,
        incidents=incidents,
        ground_truth=gen.ground_truth(),
        token=account_token(seed),
        service_dependencies=depends_on_ids(gen.org),
    )


__all__ = [
    "SimAccount",
    "SimIncident",
    "generate_account",
    "derive_incident_state",
    "account_token",
    "account_digest",
    "default_end",
    "default_volume",
    "ACCOUNT_TIME_ZONE",
]
