"""The simulated Analytics answers against PagerDuty's OpenAPI spec (200 and 400 schemas).

Errata, in the spirit of tests/simulator/test_server_schema.py: the spec types every duration
and mean as ``integer`` without ``nullable``, while its own descriptions say a metric of an
incident nobody acknowledged or resolved has no value (``seconds_to_mobilize``: "the value
will be null"); those fields may be null here. ``AnalyticsResponderMetrics.responder_id`` is
not sent by the all-responders aggregate ("Not included when aggregating by all responders").
"""

from __future__ import annotations

import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from simulator.analytics import AnalyticsSettings
from tests.simulator.server_helpers import client
from tests.simulator.test_server_schema import SPEC_URI, _spec_with_errata, _Validator

# Fields an incident without an acknowledgement or resolution (or a week without one) leaves
# null, by the spec's own wording of what they measure.
NULLABLE = {
    "AnalyticsRawIncident": (
        "seconds_to_first_ack",
        "seconds_to_resolve",
        "resolved_at",
        "resolved_by_user_id",
        "resolved_by_user_name",
        "team_id",
        "team_name",
        "escalation_policy_id",
        "escalation_policy_name",
    ),
    "AnalyticsIncidentMetrics": ("mean_seconds_to_first_ack", "mean_seconds_to_resolve"),
}
PATHS = {
    "/analytics/raw/incidents": {"limit": 1000, "order": "asc"},
    "/analytics/metrics/incidents/services": {"aggregate_unit": "week", "time_zone": "Etc/UTC"},
    "/analytics/metrics/responders/all": {"time_zone": "Etc/UTC"},
}


@pytest.fixture(scope="module")
def post_schema():
    spec = _spec_with_errata()
    schemas = spec["components"]["schemas"]
    for name, fields in NULLABLE.items():
        for field in fields:
            schemas[name]["properties"][field]["nullable"] = True
    registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT4))

    def for_path(path: str, status: str = "200"):
        response = spec["paths"][path]["post"]["responses"][status]
        if "$ref" in response:
            base = response["$ref"].removeprefix("#")
        else:
            base = "/paths/{}/post/responses/{}".format(path.replace("/", "~1"), status)
        pointer = f"{base}/content/application~1json/schema"
        return _Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry)

    return for_path


@pytest.mark.parametrize("path", list(PATHS))
def test_analytics_responses_validate_against_openapi(sim_server, sim_account, post_schema, path):
    sim_server.analytics = AnalyticsSettings()
    window = {
        "created_at_start": sim_account.start.isoformat(),
        "created_at_end": sim_account.end.isoformat(),
    }
    if path.endswith("responders/all"):
        window = {
            "date_range_start": window["created_at_start"],
            "date_range_end": window["created_at_end"],
        }
    with client(sim_server) as http:
        response = http.post(path, json={"filters": window, **PATHS[path]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"], "nothing to validate"
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in post_schema(path).iter_errors(body)
    ]
    assert errors == []


def test_the_check_is_not_vacuous(sim_server, post_schema):
    with client(sim_server) as http:
        body = http.post("/analytics/raw/incidents", json={"limit": 2}).json()
    body["data"][0]["major"] = "sometimes"
    body["more"] = "maybe"
    messages = [e.message for e in post_schema("/analytics/raw/incidents").iter_errors(body)]
    assert any("sometimes" in m for m in messages) and any("maybe" in m for m in messages)


def test_a_refused_range_validates_as_an_argument_error(sim_server, post_schema):
    with client(sim_server) as http:
        response = http.post(
            "/analytics/metrics/incidents/services",
            json={
                "filters": {"created_at_start": "2020-01-01T00:00:00Z"},
                "aggregate_unit": "week",
            },
        )
    assert response.status_code == 400
    schema = post_schema("/analytics/metrics/incidents/services", "400")
    assert list(schema.iter_errors(response.json())) == []
