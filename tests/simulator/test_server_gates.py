"""Plan-gated and missing endpoints (402/403/404 on a disabled path), and the maintenance
windows the simulated account holds: shapes checked against PagerDuty's OpenAPI spec."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from simulator.endpoints.maintenance import BOOKED_WEEKS, account_windows
from simulator.faults import FaultSpec, parse_disabled_endpoint
from simulator.index import index_for
from simulator.orchestrations import configuration
from simulator.server import SimServer
from tests.simulator.server_helpers import client
from tests.simulator.test_server_schema import response_schema  # noqa: F401 - the fixture


@pytest.mark.parametrize("status", [402, 403, 404])
def test_a_disabled_endpoint_answers_its_status_with_pagerdutys_error_body(
    sim_account,
    response_schema,  # noqa: F811
    status,
):
    faults = FaultSpec(disabled_endpoints={"/priorities": status, "/incidents": status})
    with SimServer(sim_account, faults=faults) as server, client(server) as http:
        gated = http.get("/priorities")
        below = http.get(f"/incidents/{sim_account.incidents[0].incident['id']}/alerts")
        open_path = http.get("/prioritiesX")  # not below /priorities
        teams = http.get("/teams")
        unauthenticated = client(server, token="wrong").get("/priorities")
    assert gated.status_code == below.status_code == status
    body = gated.json()
    assert set(body) == {"error"} and isinstance(body["error"]["code"], int)
    assert body["error"]["message"] in ("Payment Required", "Access Denied", "Not Found")
    template = "/priorities" if status != 404 else "/incidents/{id}"  # /priorities lists no 404
    assert list(response_schema(template, str(status)).iter_errors(body)) == []
    assert open_path.status_code == 404 and teams.status_code == 200
    assert unauthenticated.status_code == 401  # authentication is checked first


def test_disabled_endpoint_specs_parse_and_refuse_other_statuses():
    assert parse_disabled_endpoint("priorities/=402") == ("/priorities", 402)
    assert parse_disabled_endpoint(" /oncalls=404") == ("/oncalls", 404)
    for bad in ("/priorities", "/priorities=500", "=402", "/teams=abc"):
        with pytest.raises(ValueError):
            parse_disabled_endpoint(bad)
    with pytest.raises(ValueError):
        FaultSpec(disabled_endpoints={"/teams": 401})
    assert FaultSpec(disabled_endpoints={"/teams": 403}).active


def test_maintenance_windows_validate_and_filter(sim_account, response_schema):  # noqa: F811
    validator = response_schema("/maintenance_windows")
    with SimServer(sim_account) as server, client(server) as http:
        every = http.get("/maintenance_windows", params={"limit": 100, "total": "true"}).json()
        past = http.get("/maintenance_windows", params={"filter": "past"}).json()
        future = http.get("/maintenance_windows", params={"filter": "future"}).json()
        first = datetime.fromisoformat(future["maintenance_windows"][0]["start_time"])
        server.set_clock(first + timedelta(minutes=30))
        ongoing = http.get("/maintenance_windows", params={"filter": "ongoing"}).json()
        bad = http.get("/maintenance_windows", params={"filter": "soon"})
        service_id = every["maintenance_windows"][-1]["services"][0]["id"]
        of_service = http.get("/maintenance_windows", params={"service_ids[]": service_id}).json()
    assert [e.message for e in validator.iter_errors(every)] == []
    windows = every["maintenance_windows"]
    assert every["total"] == len(windows) > 0
    assert [w["sequence_number"] for w in windows] == list(range(1, len(windows) + 1))
    assert len(past["maintenance_windows"]) == 1  # the one-off, inside the history
    assert len(future["maintenance_windows"]) == len(windows) - 1
    assert all(w["end_time"] > w["start_time"] for w in windows)
    assert ongoing["maintenance_windows"], "a booked weekly window runs at that clock"
    assert bad.status_code == 400
    assert {s["id"] for w in of_service["maintenance_windows"] for s in w["services"]} == {
        service_id
    }


def test_maintenance_windows_never_cover_an_incident_of_their_service(sim_account):
    """PagerDuty creates no incident on a service inside its maintenance window: the windows
    the account holds must not contradict the incidents it serves."""
    windows = account_windows(sim_account)
    planted = sim_account.ground_truth["maintenance_windows"]
    booked = {w["services"][0]["id"] for w in windows if w["description"] != "Database upgrade"}
    assert booked and len(booked) == (len(planted) + 1) // 2
    assert len(windows) == len(booked) * BOOKED_WEEKS + 1
    for window in windows:
        service_id = window["services"][0]["id"]
        inside = [
            sim.incident["id"]
            for sim in sim_account.incidents
            if sim.incident["service"]["id"] == service_id
            and window["start_time"] <= sim.incident["created_at"] < window["end_time"]
        ]
        assert inside == [], window["id"]
    assert account_windows(sim_account) == windows  # a pure function of the account


def test_services_carry_their_settings(sim_account, response_schema):  # noqa: F811
    with SimServer(sim_account) as server, client(server) as http:
        body = http.get("/services", params={"limit": 100}).json()
    assert list(response_schema("/services").iter_errors(body)) == []
    # Auto-pause is on where simulator/orchestrations.py switched it on, off elsewhere.
    paused = configuration(index_for(sim_account)).service_settings
    for service in body["services"]:
        assert service["auto_pause_notifications_parameters"] == paused.get(service["id"], {}).get(
            "auto_pause_notifications_parameters", {"enabled": False}
        )
        assert "acknowledgement_timeout" in service and "auto_resolve_timeout" in service
        assert service["incident_urgency_rule"]["type"] == "constant"


def test_simulate_serve_refuses_a_bad_disable_endpoint_before_serving():
    from click.testing import CliRunner

    from etl.cli import cli

    result = CliRunner().invoke(
        cli, ["simulate", "serve", "--days", "1", "--disable-endpoint", "/priorities=500"]
    )
    assert result.exit_code == 2
    assert "--disable-endpoint" in result.output and "402, 403 or 404" in result.output
