"""``GET /service_dependencies/technical_services/{id}``: the relationships of the service
dependency graph where the service is either side (:mod:`simulator.dependencies`). An unknown
service answers 404, like PagerDuty; a service without dependencies an empty list.
``--disable-endpoint /service_dependencies=402`` plays an account without the Service Graph."""

from __future__ import annotations

from simulator.protocol import dumps, not_found


def get_service_dependencies(answers: dict[str, dict], service_id: str) -> bytes:
    found = answers.get(service_id)
    if found is None:
        raise not_found()
    return dumps(found)
