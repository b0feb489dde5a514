"""The account's service dependency graph as PagerDuty's Service Graph serves it:
``GET /service_dependencies/technical_services/{id}`` answers ``{"relationships": [...]}``, every
relationship where the service is either side (``supporting_service`` is the one depended on,
``dependent_service`` the one that depends on it), so a relationship appears in both services'
answers with the same id.

The graph is the organisation's (``ServiceInfo.depends_on``, drawn by ``simulator/org.py``);
:func:`depends_on_ids` reads it once, :class:`~simulator.account.SimAccount` keeps it as
``service_dependencies`` and :func:`dependency_answers` builds every service's answer from it,
for the HTTP server (``simulator/endpoints/dependencies.py``), the scale generator
(``simulator/generate.py``) and ``bench/truth.py: load_account`` alike. The ground truth's
``service_dependencies`` lists the same graph (``simulator/truth.py``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ID_LENGTH = 16  # PagerDuty's relationship ids look like "D3PG0QVACE87RNE6"


def depends_on_ids(org: Any) -> dict[str, list[str]]:
    """Service id -> the ids of the services it depends on, in the organisation's order
    (``org``: a :class:`simulator.org_model.Organisation`); services without any are left out."""
    return {
        s.ref["id"]: [org.service_info[d].ref["id"] for d in s.depends_on]
        for s in org.service_info
        if s.depends_on
    }


def relationship_id(supporting_id: str, dependent_id: str) -> str:
    """A stable id for one relationship: "D" and 15 characters of a hash of the pair."""
    digest = int.from_bytes(hashlib.sha256(f"{supporting_id}>{dependent_id}".encode()).digest())
    chars = []
    for _ in range(_ID_LENGTH - 1):
        digest, rest = divmod(digest, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[rest])
    return "D" + "".join(chars)


def _relationship(supporting_id: str, dependent_id: str) -> dict:
    return {
        "supporting_service": {"id": supporting_id, "type": "technical_service_reference"},
        "dependent_service": {"id": dependent_id, "type": "technical_service_reference"},
        "id": relationship_id(supporting_id, dependent_id),
        "type": "service_dependency",
    }


def dependency_answers(services: list[dict], depends_on: dict[str, list[str]]) -> dict[str, dict]:
    """Service id -> its ``GET /service_dependencies/technical_services/{id}`` answer, for every
    service with a usable id (one without dependencies answers an empty list). Per service:
    what it depends on first, then what depends on it, each in the graph's order. A dependency
    on a service the account does not list is left out (PagerDuty would not have it)."""
    known = {s["id"] for s in services if isinstance(s.get("id"), str)}
    related: dict[str, list[dict]] = defaultdict(list)
    dependents: dict[str, list[dict]] = defaultdict(list)
    for dependent_id, supporting_ids in depends_on.items():
        for supporting_id in supporting_ids:
            if dependent_id in known and supporting_id in known:
                relationship = _relationship(supporting_id, dependent_id)
                related[dependent_id].append(relationship)
                dependents[supporting_id].append(relationship)
    return {
        service_id: {"relationships": related[service_id] + dependents[service_id]}
        for service_id in sorted(known)
    }


def account_answers(account: Any) -> dict[str, dict]:
    """Every service's answer for a served account (a :class:`SimAccount`, or an object that
    duck-types it: one without ``service_dependencies`` has a graph without edges)."""
    return dependency_answers(account.services, getattr(account, "service_dependencies", {}))
