"""The per-service reads of a run: endpoints without a list form, asked once for every service
the run listed, each answer stored whole in ``raw_<resource>`` keyed by the service id.

Each read names the answer's key and checks it: an answer that fails the check is a rejected
page (``_rejects``, with the reason), never a failed run. ``etl/extract.py`` runs them after
the services; docs/etl.md gives each one's cost and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PerServiceRead:
    resource: str
    path: str  # with "{id}" where the service id goes
    key: str  # the answer's key the read is for
    problem: Callable[[Any], str | None]  # what is wrong with the key's value, or None

    def path_for(self, service_id: str) -> str:
        return self.path.format(id=service_id)


def _orchestration_problem(value: Any) -> str | None:
    return None if isinstance(value, dict) else "no 'orchestration_path' object in the answer"


def _relationships_problem(value: Any) -> str | None:
    """A list of relationships, each naming both services by id."""
    if not isinstance(value, list):
        return "no 'relationships' list in the answer"
    for position, relationship in enumerate(value):
        if not isinstance(relationship, dict):
            return f"relationship {position} is not an object"
        for side in ("supporting_service", "dependent_service"):
            reference = relationship.get(side)
            if not isinstance(reference, dict) or not isinstance(reference.get("id"), str):
                return f"relationship {position} has no {side}.id"
    return None


PER_SERVICE_READS: tuple[PerServiceRead, ...] = (
    # Event Orchestration service rules: what the recommendations must not propose again.
    PerServiceRead(
        "service_orchestrations",
        "/event_orchestrations/services/{id}",
        "orchestration_path",
        _orchestration_problem,
    ),
    # Service Graph: which services depend on which (both sides of every relationship).
    PerServiceRead(
        "service_dependencies",
        "/service_dependencies/technical_services/{id}",
        "relationships",
        _relationships_problem,
    ),
)
READS_BY_RESOURCE = {read.resource: read for read in PER_SERVICE_READS}
