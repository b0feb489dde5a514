"""``GET /event_orchestrations/services/{service_id}``: a service's Event Orchestration
(``orchestration_path`` with its rule ``sets`` and ``catch_all``), from
:mod:`simulator.orchestrations`. An unknown service answers 404, like PagerDuty; a service
without rules has an empty ``start`` set. ``--disable-endpoint /event_orchestrations=402``
plays an account whose plan lacks Event Orchestration."""

from __future__ import annotations

from simulator.index import AccountIndex
from simulator.orchestrations import configuration
from simulator.protocol import dumps, not_found


def get_service_orchestration(index: AccountIndex, service_id: str) -> bytes:
    found = configuration(index).orchestrations.get(service_id)
    if found is None:
        raise not_found()
    return dumps(found)
