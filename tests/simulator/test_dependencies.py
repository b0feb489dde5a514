"""The account's service dependency graph (simulator/dependencies.py) as PagerDuty's Service
Graph serves it on GET /service_dependencies/technical_services/{id}: the organisation's graph,
the ground truth's, every relationship in both services' answers with one stable id."""

from __future__ import annotations

import pytest

from simulator.dependencies import account_answers, dependency_answers, relationship_id
from simulator.faults import FaultSpec
from simulator.server import SimServer
from tests.simulator.server_helpers import client

PATH = "/service_dependencies/technical_services/"


def truth_pairs(account) -> set[tuple[str, str]]:
    """(supporting, dependent) pairs of the ground truth's service_dependencies."""
    return {
        (upstream, item["service_id"])
        for item in account.ground_truth["service_dependencies"]
        for upstream in item["depends_on"]
    }


def served_pairs(answers: dict[str, dict]) -> dict[tuple[str, str], list[str]]:
    """(supporting, dependent) -> the relationship ids of each answer listing it."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for body in answers.values():
        for r in body["relationships"]:
            pair = (r["supporting_service"]["id"], r["dependent_service"]["id"])
            pairs.setdefault(pair, []).append(r["id"])
    return pairs


def test_every_service_answers_the_graph_of_the_ground_truth(account):
    answers = account_answers(account)
    assert set(answers) == {s["id"] for s in account.services}
    pairs = served_pairs(answers)
    assert set(pairs) == truth_pairs(account) and len(pairs) >= 10
    for (supporting, dependent), ids in pairs.items():
        # Listed by both sides, with the same id each time.
        assert ids == [relationship_id(supporting, dependent)] * 2
    for service_id, body in answers.items():
        for r in body["relationships"]:
            assert service_id in (r["supporting_service"]["id"], r["dependent_service"]["id"])
    assert len({i for ids in pairs.values() for i in ids}) == len(pairs)  # ids distinct


def test_ids_are_stable_and_shaped_like_pagerduty_ones():
    first = relationship_id("PABC123", "PDEF456")
    assert first == relationship_id("PABC123", "PDEF456")
    assert first != relationship_id("PDEF456", "PABC123")
    assert len(first) == 16 and first.startswith("D") and first.isalnum() and first.isupper()


def test_a_dependency_on_an_unlisted_service_is_left_out():
    services = [{"id": "PA"}, {"id": "PB"}, {"name": "no id"}]
    answers = dependency_answers(services, {"PA": ["PB", "PGONE"], "PGONE": ["PA"]})
    assert set(answers) == {"PA", "PB"}
    assert served_pairs(answers) == {("PB", "PA"): [relationship_id("PB", "PA")] * 2}


def test_served_over_http(account):
    answers = account_answers(account)
    service_id = max(answers, key=lambda s: len(answers[s]["relationships"]))
    with SimServer(account) as server, client(server) as http:
        assert http.get(PATH + service_id).json() == answers[service_id]
        missing = http.get(PATH + "PNOSUCH")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == 2100
        assert http.get("/service_dependencies/technical_services").status_code == 404


def test_an_account_without_a_graph_answers_empty_lists(tiny):
    server, http = tiny
    service_id = server.account.services[0]["id"]
    assert http.get(PATH + service_id).json() == {"relationships": []}


@pytest.mark.parametrize("status", [402, 403])
def test_the_endpoint_can_be_disabled(account, status):
    gate = FaultSpec(disabled_endpoints={"/service_dependencies": status})
    with SimServer(account, faults=gate) as server, client(server) as http:
        assert http.get(PATH + account.services[0]["id"]).status_code == status
        assert http.get("/services").status_code == 200
