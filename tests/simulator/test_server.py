"""The simulated PagerDuty HTTP server: shapes, pagination, windows, auth, limits, faults, clock.

Exact-value tests run against a hand-built four-incident account (``tiny_account``) whose
timeline is written out; schema and scale tests run against the generated session account
(``sim_account`` from ``tests/conftest.py``). Every request goes over real HTTP.
"""

from __future__ import annotations

import json
import socket
import ssl
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from jsonschema import validators
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from simulator.faults import FAULT_KINDS, FaultSpec
from simulator.protocol import add_months
from simulator.server import SimServer
from tests.shared_material import shared_file
from tests.simulator.tiny_account import END, TOKEN, tiny_account

# PagerDuty's api-schema reference/REST/openapiv3.json (commit 91a06fb, see SOURCE.txt there):
# $PAGERLENS_OPENAPI, else ../shared (not redistributable: skipped when absent).
SPEC = "pagerduty-openapi/openapiv3.json"
SPEC_URI = "urn:pagerduty-openapi"


# --------------------------------------------------------------------------- helpers


def _properties(schemas: dict, name: str) -> dict:
    """The properties of a component schema written as allOf[base, {properties}] or plain."""
    schema = schemas[name]
    return schema["allOf"][1]["properties"] if "allOf" in schema else schema["properties"]


# Fields the spec's own description says may be null, but that lack `nullable: true`.
DOCUMENTED_NULLS = [
    ("Incident", "resolved_at"),  # "or `null` if the incident is not resolved"
    ("Incident", "alert_grouping"),  # "Will be null if the incident has no alerts"
    ("Service", "acknowledgement_timeout"),  # "Value is `null` if the feature is disabled"
    ("Service", "auto_resolve_timeout"),  # same wording
    ("ScheduleLayer", "end"),  # "If `null`, the layer does not end"
    ("AcknowledgeLogEntry", "acknowledgement_timeout"),  # "It may also be `null`"
]
# Fields the live API sends as null (an incident without priority, an unresolved incident,
# a service that never had an incident, a grouping still open) that the spec neither marks
# nullable nor documents; the account model reproduces the live API here. Kept apart from
# DOCUMENTED_NULLS so the list stays a deliberate, reviewable choice.
LIVE_API_NULLS = [
    ("Incident", "priority"),
    ("Incident", "resolve_reason"),
    ("Service", "last_incident_timestamp"),
]


def _spec_with_errata() -> dict:
    """PagerDuty's OpenAPI document with its known defects corrected.

    Each correction follows the spec's own words, so the server is checked against what the
    API really sends rather than against a typo:
    * ``AcknowledgeLogEntry.type`` is spelled ``acknowledgement_log_entry`` there, while the
      base ``LogEntry`` enum (and the live API) say ``acknowledge_log_entry``.
    * the nullable fields of DOCUMENTED_NULLS and LIVE_API_NULLS above.
    * ``include[]=incidents|services|teams`` on the log entry endpoints returns full objects
      where ``LogEntry`` only allows references; they may be either, the way ``Incident``
      models its own includes (``oneOf: [ServiceReference, Service]``).
    """
    spec = json.loads(shared_file(SPEC, env="PAGERLENS_OPENAPI").read_text())
    schemas = spec["components"]["schemas"]
    ack_type = _properties(schemas, "AcknowledgeLogEntry")["type"]
    ack_type["enum"] = [*ack_type["enum"], "acknowledge_log_entry"]
    for schema_name, field in DOCUMENTED_NULLS + LIVE_API_NULLS:
        prop = _properties(schemas, schema_name)[field]
        _properties(schemas, schema_name)[field] = (
            {"anyOf": [prop, {"enum": [None]}]} if "$ref" in prop else {**prop, "nullable": True}
        )
    grouping = _properties(schemas, "Incident")["alert_grouping"]["properties"]
    grouping["ended_at"]["nullable"] = True  # open grouping: the same live-API null
    entry = _properties(schemas, "LogEntry")
    ref = "#/components/schemas/"
    entry["incident"] = {"oneOf": [{"$ref": ref + "IncidentReference"}, {"$ref": ref + "Incident"}]}
    entry["service"] = {"oneOf": [{"$ref": ref + "ServiceReference"}, {"$ref": ref + "Service"}]}
    entry["teams"] = {
        "type": "array",
        "items": {"oneOf": [{"$ref": ref + "TeamReference"}, {"$ref": ref + "Team"}]},
    }
    return spec


# The spec writes undiscriminated unions (Channel variants, Reference | full object) as
# oneOf, which no real payload can satisfy (a {"type": "website"} channel is valid under every
# variant). Validating them as anyOf still requires each value to match one declared shape.
_Validator = validators.extend(OAS30Validator, {"oneOf": OAS30Validator.VALIDATORS["anyOf"]})


@pytest.fixture(scope="module")
def response_schema():
    spec = _spec_with_errata()
    registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT4))

    def for_path(template: str, status: str = "200"):
        response = spec["paths"][template]["get"]["responses"][status]
        if "$ref" in response:  # shared error responses live in components/responses
            base = response["$ref"].removeprefix("#")
        else:
            base = "/paths/{}/get/responses/{}".format(
                template.replace("~", "~0").replace("/", "~1"), status
            )
        pointer = f"{base}/content/application~1json/schema"
        return _Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry)

    return for_path


def _client(server: SimServer, token: str | None = None, **kw) -> httpx2.Client:
    return httpx2.Client(
        base_url=server.url,
        headers={"Authorization": f"Token token={token or server.token}"},
        timeout=10,
        **kw,
    )


@pytest.fixture
def tiny():
    with SimServer(tiny_account()) as server, _client(server) as client:
        yield server, client


def _ids(body: dict, wrapper: str) -> list[str]:
    return [item["id"] for item in body[wrapper]]


# --------------------------------------------------------------------------- schema


ENDPOINTS = [
    # (request path, OpenAPI path template, wrapper)
    ("/incidents?date_range=all", "/incidents", "incidents"),
    (
        "/incidents?date_range=all&include[]=services&include[]=teams"
        "&include[]=escalation_policies&include[]=first_trigger_log_entries&include[]=nonsense",
        "/incidents",
        "incidents",
    ),
    ("/incidents?statuses[]=resolved&sort_by=created_at:desc", "/incidents", "incidents"),
    ("/log_entries", "/log_entries", "log_entries"),
    ("/log_entries?include[]=incidents&include[]=channels", "/log_entries", "log_entries"),
    (
        "/log_entries?is_overview=true&include[]=services&include[]=teams",
        "/log_entries",
        "log_entries",
    ),
    ("/services", "/services", "services"),
    ("/teams", "/teams", "teams"),
    ("/users", "/users", "users"),
    ("/users?include[]=contact_methods&include[]=notification_rules", "/users", "users"),
    ("/escalation_policies", "/escalation_policies", "escalation_policies"),
    ("/schedules", "/schedules", "schedules"),
    ("/oncalls?since=2026-02-16T00:00:00Z&until=2026-03-02T00:00:00Z", "/oncalls", "oncalls"),
    ("/priorities", "/priorities", "priorities"),
]


@pytest.mark.parametrize(
    ("request_path", "template", "wrapper"), ENDPOINTS, ids=[e[0][:60] for e in ENDPOINTS]
)
def test_list_responses_validate_against_openapi(
    sim_server, response_schema, request_path, template, wrapper
):
    validator = response_schema(template)
    with _client(sim_server) as client:
        seen = 0
        for page in range(2):  # the first pages of each endpoint, at PagerDuty's maximum size
            sep = "&" if "?" in request_path else "?"
            response = client.get(f"{request_path}{sep}limit=100&offset={page * 100}")
            assert response.status_code == 200, response.text
            body = response.json()
            errors = [
                f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(body)
            ]
            assert errors == []
            seen += len(body[wrapper])
            if not body["more"]:
                break
    assert seen > 0, f"{request_path} returned nothing to validate"


def test_item_responses_validate_against_openapi(sim_server, sim_account, response_schema):
    with _client(sim_server) as client:
        incidents = client.get("/incidents", params={"limit": 5}).json()["incidents"]
        assert incidents
        for incident in incidents:
            for path, template in (
                (f"/incidents/{incident['id']}", "/incidents/{id}"),
                (
                    f"/incidents/{incident['id']}/log_entries?include[]=incidents",
                    "/incidents/{id}/log_entries",
                ),
                (f"/incidents/{incident['id']}/alerts", "/incidents/{id}/alerts"),
            ):
                response = client.get(path)
                assert response.status_code == 200, response.text
                errors = [
                    e.message[:200] for e in response_schema(template).iter_errors(response.json())
                ]
                assert errors == [], path
        schedule_id = sim_account.schedules[0]["id"]
        body = client.get(f"/schedules/{schedule_id}").json()
        assert list(response_schema("/schedules/{id}").iter_errors(body)) == []
        assert body["schedule"]["id"] == schedule_id


def test_schema_check_catches_a_wrong_shape(tiny, response_schema):
    """The validator used above is not vacuous: a broken payload fails it."""
    _, client = tiny
    body = client.get("/incidents", params={"date_range": "all"}).json()
    body["incidents"][0]["status"] = "on fire"
    body["more"] = "yes"
    messages = [e.message for e in response_schema("/incidents").iter_errors(body)]
    assert any("on fire" in m for m in messages) and any("yes" in m for m in messages)
    entries = client.get("/log_entries").json()
    entries["log_entries"][0]["created_at"] = 12
    assert list(response_schema("/log_entries").iter_errors(entries))


def test_error_responses_validate_against_openapi(tiny, response_schema):
    server, client = tiny
    bad_request = client.get("/incidents", params={"since": "yesterday-ish"})
    assert bad_request.status_code == 400
    assert list(response_schema("/incidents", "400").iter_errors(bad_request.json())) == []
    assert bad_request.json()["error"]["code"] == 2001
    unauthorized = httpx2.get(server.url + "/incidents")
    assert list(response_schema("/incidents", "401").iter_errors(unauthorized.json())) == []


# --------------------------------------------------------------------------- pagination


def test_pagination_more_total_and_no_gaps(sim_server):
    with _client(sim_server) as client:
        first = client.get("/log_entries", params={"limit": 100, "total": "true"}).json()
        total = first["total"]
        assert total > 250 and first["more"] is True and first["limit"] == 100
        ids = []
        offset = 0
        while True:
            body = client.get("/log_entries", params={"limit": 100, "offset": offset}).json()
            assert body["total"] is None  # only with total=true, as PagerDuty does
            ids += _ids(body, "log_entries")
            offset += 100
            if not body["more"]:
                break
        assert len(ids) == total == len(set(ids))
        last = client.get("/log_entries", params={"limit": 100, "offset": offset - 100}).json()
        assert last["more"] is False
        beyond = client.get("/log_entries", params={"limit": 100, "offset": total + 5}).json()
        assert beyond["log_entries"] == [] and beyond["more"] is False


def test_limit_is_clamped_and_defaults_to_25(sim_server):
    with _client(sim_server) as client:
        assert client.get("/log_entries").json()["limit"] == 25
        assert len(client.get("/log_entries").json()["log_entries"]) == 25
        body = client.get("/log_entries", params={"limit": 1000}).json()
        assert body["limit"] == 100 and len(body["log_entries"]) == 100


@pytest.mark.parametrize(
    ("offset", "limit", "status"),
    [
        (9900, 100, 200),
        (9901, 100, 400),
        (10_000, 1, 400),
        (9999, 500, 400),
        (0, 0, 400),
        (-1, 10, 400),
        ("x", 10, 400),
    ],
)
def test_offset_plus_limit_cap(tiny, offset, limit, status):
    _, client = tiny
    response = client.get(
        "/incidents", params={"date_range": "all", "offset": offset, "limit": limit}
    )
    assert response.status_code == status
    if status == 400:
        error = response.json()["error"]
        assert error["code"] == 2001 and error["message"] == "Invalid Input Provided"
        assert error["errors"]


# --------------------------------------------------------------------------- windows


def test_incident_window_defaults_to_the_month_before_the_clock(tiny):
    _, client = tiny
    # Incidents at END-50d, END-10d, END-2d and END-1h: the first is older than a month.
    body = client.get("/incidents", params={"total": "true"}).json()
    assert _ids(body, "incidents") == ["PINC002", "PINC003", "PINC004"]
    assert body["total"] == 3
    assert _ids(client.get("/incidents", params={"date_range": "all"}).json(), "incidents") == [
        "PINC001",
        "PINC002",
        "PINC003",
        "PINC004",
    ]
    # since alone: until is the clock; until alone: since is a month earlier.
    since_only = client.get("/incidents", params={"since": "2026-01-01T00:00:00Z"}).json()
    assert _ids(since_only, "incidents") == ["PINC001", "PINC002", "PINC003", "PINC004"]
    until_only = client.get("/incidents", params={"until": "2026-02-28T00:00:00Z"}).json()
    assert _ids(until_only, "incidents") == ["PINC002"]


def test_incident_window_is_created_at_since_inclusive_until_exclusive(tiny):
    _, client = tiny
    created = (END - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    at = client.get("/incidents", params={"since": created, "until": "2026-03-01"}).json()
    assert _ids(at, "incidents") == ["PINC002", "PINC003"]
    before = client.get("/incidents", params={"since": "2026-01-01", "until": created}).json()
    assert _ids(before, "incidents") == ["PINC001"]


def test_incident_window_maximum_is_six_months(tiny):
    _, client = tiny
    until = datetime(2026, 3, 1, tzinfo=UTC)
    six = add_months(until, -6)
    ok = client.get("/incidents", params={"since": six.isoformat(), "until": until.isoformat()})
    assert ok.status_code == 200
    too_long = client.get(
        "/incidents",
        params={"since": (six - timedelta(seconds=1)).isoformat(), "until": until.isoformat()},
    )
    assert too_long.status_code == 400
    assert "6 months" in too_long.json()["error"]["errors"][0]
    # date_range=all ignores since/until entirely.
    assert (
        client.get("/incidents", params={"date_range": "all", "since": "2000-01-01"}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-02-10", "until": "2026-02-01"},
        {"since": "not a date"},
        {"until": "2026-13-45"},
        {"time_zone": "Mars/Olympus_Mons"},
        {"statuses[]": "exploded"},
        {"date_range": "some"},
        {"sort_by": "summary:asc"},
    ],
)
def test_invalid_incident_params_are_400(tiny, params):
    _, client = tiny
    response = client.get("/incidents", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2001


def test_naive_times_are_read_in_the_time_zone_param(tiny):
    _, client = tiny
    # PINC004 was created at 11:00 UTC = 20:00 in Tokyo.
    tokyo = {
        "since": "2026-03-02T19:59:00",
        "until": "2026-03-02T20:01:00",
        "time_zone": "Asia/Tokyo",
    }
    body = client.get("/incidents", params=tokyo).json()
    assert _ids(body, "incidents") == ["PINC004"]
    assert body["incidents"][0]["created_at"] == "2026-03-02T20:00:00+09:00"
    utc = client.get(
        "/incidents", params={"since": "2026-03-02T19:59:00", "until": "2026-03-02T20:01:00"}
    ).json()
    assert utc["incidents"] == []  # account time zone is UTC


def test_incident_filters_and_sort(tiny):
    _, client = tiny

    def get(**p):
        return _ids(client.get("/incidents", params={"date_range": "all", **p}).json(), "incidents")

    assert get(**{"statuses[]": "triggered"}) == ["PINC004"]
    assert get(**{"statuses[]": ["triggered", "resolved"]}) == [
        "PINC001",
        "PINC002",
        "PINC003",
        "PINC004",
    ]
    assert get(**{"service_ids[]": "PSERV02"}) == ["PINC003", "PINC004"]
    assert get(**{"team_ids[]": "PTEAM01"}) == ["PINC001", "PINC002", "PINC003", "PINC004"]
    assert get(**{"team_ids[]": "PNOBODY"}) == []
    assert get(**{"urgencies[]": "low"}) == ["PINC003"]
    assert get(incident_key="disk-2") == ["PINC002"]
    assert get(sort_by="created_at:desc") == ["PINC004", "PINC003", "PINC002", "PINC001"]
    assert get(sort_by="urgency:desc,incident_number:desc") == [
        "PINC004",
        "PINC002",
        "PINC001",
        "PINC003",
    ]
    # Unresolved incidents sort after resolved ones ascending.
    assert get(sort_by="resolved_at") == ["PINC001", "PINC002", "PINC003", "PINC004"]


def test_incidents_assigned_to_a_user(sim_server):
    with _client(sim_server) as client:
        open_incidents = client.get(
            "/incidents",
            params={"date_range": "all", "statuses[]": ["triggered", "acknowledged"], "limit": 100},
        ).json()["incidents"]
        assigned = [i for i in open_incidents if i["assignments"]]
        assert assigned, "the generated account should end with some open, assigned incidents"
        user_id = assigned[0]["assignments"][0]["assignee"]["id"]
        body = client.get(
            "/incidents", params={"date_range": "all", "user_ids[]": user_id, "limit": 100}
        ).json()
        assert assigned[0]["id"] in _ids(body, "incidents")
        for incident in body["incidents"]:
            assert user_id in {a["assignee"]["id"] for a in incident["assignments"]}
            assert incident["status"] != "resolved"


def test_log_entries_window_order_and_filters(tiny):
    _, client = tiny
    body = client.get("/log_entries", params={"limit": 100, "total": "true"}).json()
    times = [(e["created_at"], e["id"]) for e in body["log_entries"]]
    assert times == sorted(times, reverse=True)  # newest first, ties by id descending
    # Default window: the month before the clock, so incident 1's entries are not in it.
    assert {e["incident"]["id"] for e in body["log_entries"]} == {"PINC002", "PINC003", "PINC004"}
    # Same created_at (END-1h): PINC003's resolve and PINC004's trigger, ties by id descending.
    same_second = [
        e["id"] for e in body["log_entries"] if e["created_at"] == "2026-03-02T11:00:00Z"
    ]
    assert same_second == ["R004TRIGGER", "R003RESOLVE"]
    everything = client.get("/log_entries", params={"since": "2026-01-01", "total": "true"}).json()
    assert everything["total"] == 14
    overview = client.get(
        "/log_entries", params={"since": "2026-01-01", "is_overview": "true", "total": "true"}
    ).json()
    assert overview["total"] == 10
    assert all(e["type"] != "notify_log_entry" for e in overview["log_entries"])
    assert (
        client.get("/log_entries", params={"team_ids[]": "PNOBODY", "total": "true"}).json()[
            "total"
        ]
        == 0
    )
    window = client.get(
        "/log_entries", params={"since": "2026-02-20T12:00:00Z", "until": "2026-02-20T12:05:00Z"}
    ).json()
    assert [e["id"] for e in window["log_entries"]] == ["R002NOTIFY1", "R002TRIGGER"]


def test_log_entry_includes_and_channel_reduction(tiny):
    _, client = tiny
    plain = client.get("/incidents/PINC002/log_entries").json()["log_entries"]
    trigger = next(e for e in plain if e["type"] == "trigger_log_entry")
    assert trigger["channel"] == {"type": "api", "summary": "disk full on db-2"}
    assert trigger["incident"]["type"] == "incident_reference"
    full = client.get(
        "/incidents/PINC002/log_entries",
        params={"include[]": ["channels", "incidents", "services"]},
    ).json()
    trigger = next(e for e in full["log_entries"] if e["type"] == "trigger_log_entry")
    assert trigger["channel"]["details"] == {"disk": "/var", "used": "97%"}
    assert trigger["incident"]["type"] == "incident"
    assert trigger["incident"]["status"] == "resolved"
    assert trigger["service"]["type"] == "service" and trigger["service"]["name"] == "checkout-api"
    overview = client.get("/incidents/PINC002/log_entries", params={"is_overview": "true"}).json()
    assert [e["type"] for e in overview["log_entries"]] == [
        "resolve_log_entry",
        "acknowledge_log_entry",
        "trigger_log_entry",
    ]


# --------------------------------------------------------------------------- clock


def test_clock_shows_the_account_as_of_then(tiny):
    server, client = tiny
    # Incident 3: created END-2d, acknowledged END-2d+1h, resolved END-1h.
    server.set_clock(END - timedelta(days=1))
    incident = client.get("/incidents/PINC003").json()["incident"]
    assert incident["status"] == "acknowledged" and incident["resolved_at"] is None
    assert client.get("/incidents/PINC003/alerts").json()["alerts"][0]["status"] == "triggered"
    assert client.get("/incidents/PINC004").status_code == 404  # created after the clock
    assert _ids(client.get("/incidents").json(), "incidents") == ["PINC002", "PINC003"]
    entries = client.get("/log_entries", params={"include[]": "incidents"}).json()["log_entries"]
    assert all(e["created_at"] <= "2026-03-01T12:00:00Z" for e in entries)
    assert "R003RESOLVE" not in {e["id"] for e in entries}
    embedded = {e["incident"]["id"]: e["incident"]["status"] for e in entries}
    assert embedded == {"PINC002": "resolved", "PINC003": "acknowledged"}
    assert _ids(
        client.get("/incidents", params={"date_range": "all", "statuses[]": "acknowledged"}).json(),
        "incidents",
    ) == ["PINC003"]

    server.set_clock(END - timedelta(days=2) + timedelta(minutes=10))
    assert client.get("/incidents/PINC003").json()["incident"]["status"] == "triggered"
    server.set_clock(END)
    assert client.get("/incidents/PINC003").json()["incident"]["status"] == "resolved"


def test_clock_admin_endpoint(tiny):
    server, client = tiny
    moved = httpx2.post(server.url + "/_sim/clock", params={"now": "2026-03-01T12:00:00Z"})
    assert moved.status_code == 200 and moved.json() == {"now": "2026-03-01T12:00:00Z"}
    assert server.now == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert client.get("/incidents/PINC003").json()["incident"]["status"] == "acknowledged"
    assert httpx2.post(server.url + "/_sim/clock").status_code == 400
    with pytest.raises(ValueError):
        server.set_clock(datetime(2026, 3, 1))  # naive: ambiguous


def test_oncalls_overlap_filters_and_earliest(tiny):
    server, client = tiny
    # Weekly shifts from END-21d: the current one (at the clock) is week 4 (END .. END+7d)
    # starting exactly at END, so the shift ending at END does not overlap.
    now = client.get("/oncalls").json()["oncalls"]
    assert [(o["user"]["id"], o["start"]) for o in now] == [("PUSER02", "2026-03-02T12:00:00Z")]
    all_shifts = client.get(
        "/oncalls", params={"since": "2026-02-01", "until": "2026-04-01", "total": "true"}
    ).json()
    assert all_shifts["total"] == 4
    one_day = client.get("/oncalls", params={"since": "2026-02-20", "until": "2026-02-21"}).json()
    assert [o["start"] for o in one_day["oncalls"]] == ["2026-02-16T12:00:00Z"]  # not clipped
    ada = client.get(
        "/oncalls", params={"since": "2026-02-01", "until": "2026-04-01", "user_ids[]": "PUSER01"}
    ).json()["oncalls"]
    assert {o["user"]["id"] for o in ada} == {"PUSER01"} and len(ada) == 2
    earliest = client.get(
        "/oncalls", params={"since": "2026-02-01", "until": "2026-04-01", "earliest": "true"}
    ).json()["oncalls"]
    assert [(o["user"]["id"], o["start"]) for o in earliest] == [
        ("PUSER01", "2026-02-09T12:00:00Z"),
        ("PUSER02", "2026-02-16T12:00:00Z"),
    ]
    assert client.get("/oncalls", params={"schedule_ids[]": "PNONE"}).json()["oncalls"] == []


def test_catalog_endpoints(tiny):
    _, client = tiny
    services = client.get("/services").json()
    assert _ids(services, "services") == ["PSERV01", "PSERV02"]  # sorted by name
    assert _ids(client.get("/services", params={"query": "LEDG"}).json(), "services") == ["PSERV02"]
    assert client.get("/users/PUSER01").json()["user"]["name"] == "Ada Lovelace"
    assert client.get("/services/PNOPE").status_code == 404
    assert client.get("/priorities").json()["priorities"][0]["name"] == "P1"
    assert client.get("/unknown").json() == {"error": {"message": "Not Found", "code": 2100}}


# --------------------------------------------------------------------------- auth and limits


@pytest.mark.parametrize(
    "header",
    [None, "Token token=wrong", f"Bearer {TOKEN}", f"Token token={TOKEN}x", f"token token={TOKEN}"],
)
def test_auth_requires_the_exact_token_header(tiny, header):
    server, _ = tiny
    headers = {"Authorization": header} if header else {}
    response = httpx2.get(server.url + "/incidents", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Authentication Required"
    assert TOKEN not in response.text
    assert "ratelimit-limit" in response.headers


def test_auth_accepts_the_token_and_pagerduty_accept_header(tiny):
    server, _ = tiny
    response = httpx2.get(
        server.url + "/incidents",
        headers={
            "Authorization": f"Token token={TOKEN}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_rate_limit_headers_and_429():
    with SimServer(tiny_account(), rate_per_minute=5) as server, _client(server) as client:
        remaining = []
        for _ in range(5):
            response = client.get("/priorities")
            assert response.status_code == 200
            assert response.headers["ratelimit-limit"] == "5"
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        limited = client.get("/priorities")
        assert limited.status_code == 429
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 12  # one token every 12 s at 5/min
        assert limited.headers["ratelimit-reset"] == limited.headers["Retry-After"]
        assert limited.headers["ratelimit-remaining"] == "0"
        assert limited.json()["error"]["code"] == 2020
        # The limit is per token: another credential has its own bucket (and gets a 401).
        assert httpx2.get(server.url + "/priorities").status_code == 401
        # Admin endpoints are never limited.
        assert httpx2.get(server.url + "/_sim/requests").status_code == 200
        assert [r.status for r in server.request_log] == [200] * 5 + [429, 401]


# --------------------------------------------------------------------------- faults


def test_fault_spec_parse_and_round_trip():
    spec = FaultSpec.parse(
        "429=0.05,500=0.02,502=0.01,503=0.01,slow=0.02:2.5,drop=0.01,"
        "malformed=0.01,truncated=0.01,seed=3,expire_token_after=40"
    )
    assert spec.rates["429"] == 0.05 and spec.slow_seconds == 2.5 and spec.seed == 3
    assert spec.expire_token_after == 40
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec().decide(1) is None and not FaultSpec().active
    for bad in ("429=2", "teapot=0.1", "500", "500=0.6,502=0.6", "slow=x:1", "seed=abc"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_fault_decisions_are_a_function_of_seed_and_request_number():
    spec = FaultSpec.parse(
        "429=0.1,500=0.1,502=0.1,503=0.1,504=0.1,slow=0.1:0.01,drop=0.1,"
        "malformed=0.1,truncated=0.1,seed=11"
    )
    first = [spec.decide(n) for n in range(1, 2001)]
    assert first == [spec.decide(n) for n in range(1, 2001)]
    kinds = [f.kind if f else None for f in first]
    for kind in FAULT_KINDS:
        assert 120 <= kinds.count(kind) <= 280, kind  # ~200 expected of each at 10%
    other = FaultSpec.parse(
        "429=0.1,500=0.1,502=0.1,503=0.1,504=0.1,slow=0.1:0.01,drop=0.1,"
        "malformed=0.1,truncated=0.1,seed=12"
    )
    assert kinds != [f.kind if f else None for f in (other.decide(n) for n in range(1, 2001))]


def _fault_run(spec: str) -> list[tuple[int | None, str | None]]:
    """Statuses and faults of 40 sequential requests against a fresh server."""
    with (
        SimServer(tiny_account(), faults=FaultSpec.parse(spec)) as server,
        _client(server) as client,
    ):
        for _ in range(40):
            try:
                client.get("/incidents", params={"date_range": "all"})
            except httpx2.HTTPError:
                pass  # a dropped or truncated response; the next request reconnects
        return [(r.status, r.fault) for r in sorted(server.request_log, key=lambda r: r.number)]


def test_faults_over_http_are_reproducible_by_seed():
    spec = "429=0.1,500=0.1,502=0.05,503=0.05,drop=0.1,malformed=0.1,truncated=0.1,seed=5"
    first = _fault_run(spec)
    assert first == _fault_run(spec)
    assert first != _fault_run(spec.replace("seed=5", "seed=6"))
    faults = {fault for _, fault in first}
    assert {"429", "500", "drop", "malformed", "truncated", None} <= faults
    for status, fault in first:
        if fault in (None, "malformed", "truncated"):
            assert status == 200
        elif fault == "drop":
            assert status is None
        else:
            assert status == int(fault)


def test_each_fault_kind_looks_like_the_real_failure():
    slept: list[float] = []

    def one(kind: str) -> httpx2.Response | Exception:
        rate = "slow=1:2.5" if kind == "slow" else f"{kind}=1"
        spec = FaultSpec.parse(rate)
        with SimServer(tiny_account(), faults=spec, sleep=slept.append) as server:
            try:
                return httpx2.get(
                    server.url + "/priorities",
                    timeout=5,
                    headers={"Authorization": f"Token token={TOKEN}"},
                )
            except httpx2.HTTPError as exc:
                return exc

    for status in (429, 500, 502, 503, 504):
        response = one(str(status))
        assert response.status_code == status and response.json()["error"]["code"]
        assert "ratelimit-limit" in response.headers
    assert one("429").headers["Retry-After"] == "1"
    malformed = one("malformed")
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.content)
    assert isinstance(one("drop"), httpx2.RemoteProtocolError)
    assert isinstance(one("truncated"), httpx2.RemoteProtocolError)
    assert slept == []
    slow = one("slow")
    assert slow.status_code == 200 and slow.json()["priorities"]
    assert slept == [2.5]


def test_latency_is_added_to_every_api_response():
    slept: list[float] = []
    with SimServer(tiny_account(), latency_ms=40, sleep=slept.append) as server:
        with _client(server) as client:
            assert client.get("/priorities").status_code == 200
            assert client.get("/incidents/PNOPE").status_code == 404
        assert httpx2.get(server.url + "/incidents").status_code == 401
        httpx2.get(server.url + "/_sim/clock")  # admin requests are not delayed
    assert slept == [0.04, 0.04, 0.04]


def test_faults_never_touch_admin_endpoints_and_token_expiry():
    spec = FaultSpec.parse("drop=1,seed=1")
    with SimServer(tiny_account(), faults=spec) as server:
        for _ in range(5):
            assert httpx2.get(server.url + "/_sim/ground_truth").json() == {
                "storms": [],
                "note": "tiny",
            }
        assert server.request_log == []
    with (
        SimServer(tiny_account(), faults=FaultSpec(expire_token_after=3)) as server,
        _client(server) as client,
    ):
        statuses = [client.get("/priorities").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 401, 401]


# --------------------------------------------------------------------------- request log


def test_request_log_records_queries_without_secrets(tiny):
    server, client = tiny
    client.get(
        "/incidents",
        params={
            "statuses[]": ["triggered", "acknowledged"],
            "include[]": "services",
            "limit": 10,
            "offset": 0,
        },
    )
    client.get("/log_entries", params={"since": "2026-02-01T00:00:00Z"})
    log = server.request_log
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/incidents", 200),
        ("GET", "/log_entries", 200),
    ]
    assert log[0].query == {
        "statuses[]": ["triggered", "acknowledged"],
        "include[]": ["services"],
        "limit": "10",
        "offset": "0",
    }
    assert log[1].query == {"since": "2026-02-01T00:00:00Z"}
    assert all(r.duration >= 0 for r in log) and [r.number for r in log] == [1, 2]
    over_http = httpx2.get(server.url + "/_sim/requests").json()
    assert [r["path"] for r in over_http] == ["/incidents", "/log_entries"]
    assert TOKEN not in json.dumps(over_http) and TOKEN not in repr(log)
    server.clear_log()
    assert server.request_log == []


def test_request_log_is_thread_safe_under_concurrent_clients(tiny):
    server, _ = tiny
    errors: list[Exception] = []

    def worker() -> None:
        try:
            with _client(server) as client:
                for _ in range(25):
                    assert client.get("/priorities").status_code == 200
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(r.number for r in server.request_log)
    assert numbers == list(range(1, 201))


def test_stop_closes_idle_keep_alive_connections():
    server = SimServer(tiny_account())
    server.start()
    client = _client(server)
    assert client.get("/priorities").status_code == 200  # leaves a keep-alive connection
    server.stop()
    with pytest.raises(httpx2.HTTPError):
        client.get("/priorities")
    client.close()


def test_a_simulator_bug_is_a_500_not_a_dead_connection(caplog):
    account = tiny_account()

    def broken_as_of(now):
        raise RuntimeError("model bug")

    account.incidents[1].as_of = broken_as_of
    with SimServer(account) as server, _client(server) as client:
        response = client.get("/incidents/PINC002")
        assert response.status_code == 500
        assert response.json()["error"]["message"] == "Internal Server Error"
        assert client.get("/incidents/PINC003").status_code == 200
    assert "model bug" in caplog.text and TOKEN not in caplog.text


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_binds_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        SimServer(tiny_account(), host="0.0.0.0")
    with SimServer(tiny_account()) as server:
        assert server.url.startswith("http://127.0.0.1:")


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback here")
def test_serves_on_ipv6_loopback():
    with SimServer(tiny_account(), host="::1") as server, _client(server) as client:
        assert server.url.startswith("http://[::1]:")
        assert client.get("/priorities").status_code == 200


# --------------------------------------------------------------------------- TLS and the client


def test_pagerduty_client_pages_incidents_over_tls(sim_account):
    import pagerduty

    with SimServer(sim_account, tls=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        expected = len(sim_account.incidents)
        client = pagerduty.RestApiV2Client(
            server.token, base_url=server.url, verify=server.client_ssl_context()
        )
        incidents = list(client.iter_all("incidents", params={"date_range": "all"}))
        assert len(incidents) == expected and len({i["id"] for i in incidents}) == expected
        offsets = [int(r.query["offset"]) for r in server.request_log]
        assert offsets == list(range(0, 100 * len(offsets), 100))
        assert server.ca_pem_path is not None and server.ca_pem_path.exists()
        # A client that does not trust the throw-away CA is refused.
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(server.url + "/priorities")
        by_path = httpx2.get(
            server.url + "/_sim/clock",
            verify=ssl.create_default_context(cafile=str(server.ca_pem_path)),
        )
        assert by_path.status_code == 200


def test_start_background_server_and_serve_forever():
    from simulator.server import serve_forever, start_background_server

    server = start_background_server(seed=3, days=7, end=datetime(2026, 3, 2, tzinfo=UTC))
    try:
        with _client(server) as client:
            body = client.get("/incidents", params={"total": "true"}).json()
        assert body["total"] == len(server.account.incidents) > 0
        assert server.now == datetime(2026, 3, 2, tzinfo=UTC)
    finally:
        server.stop()

    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve_forever,
        kwargs={
            "seed": 3,
            "days": 7,
            "port": 0,
            "faults": "500=1,seed=1",
            "echo": lines.append,
            "stop_event": stop,
        },
    )
    thread.start()
    try:
        for _ in range(100):
            if lines:
                break
            time.sleep(0.05)
        url = lines[0].split(" at ")[1].split(" ")[0]
        token = lines[0].split("token: ")[1].split(")")[0]
        response = httpx2.get(
            url + "/priorities", headers={"Authorization": f"Token token={token}"}
        )
        assert response.status_code == 500  # the fault spec string was applied
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


# --------------------------------------------------------------------------- speed


@pytest.mark.slow
def test_page_latency_benchmark():
    """Time 100-item pages over keep-alive HTTP, cold (first serialisation) and warm.

    Prints client-side round trips and the server's own handling time (request log); asserts
    only that the pages are right, never a duration.
    """
    from simulator.account import generate_account

    # An account of its own (60 days: enough incidents for 20 pages), so nothing is warm.
    account = generate_account(seed=7, days=60, end=datetime(2026, 3, 2, tzinfo=UTC))
    cases = {
        "incidents": ("/incidents", {"date_range": "all", "limit": 100}),
        "log_entries": ("/log_entries", {"limit": 100}),
        "log_entries+incidents": ("/log_entries", {"limit": 100, "include[]": "incidents"}),
    }
    with SimServer(account) as server, _client(server) as client:
        for name, (path, params) in cases.items():
            wrapper = path.strip("/")
            total = client.get(path, params={**params, "total": "true"}).json()["total"]
            offsets = list(range(0, min(total, 2000) - 99, 100))
            assert len(offsets) >= 3
            for temperature in ("cold", "warm"):
                server.clear_log()
                round_trips, sizes = [], []
                for offset in offsets:
                    started = time.perf_counter()
                    response = client.get(path, params={**params, "offset": offset})
                    round_trips.append(time.perf_counter() - started)
                    assert response.status_code == 200
                    assert len(response.json()[wrapper]) == 100
                    sizes.append(len(response.content))
                handling = [r.duration for r in server.request_log]
                print(
                    f"\n{name} {temperature}: {len(offsets)} pages of 100, "
                    f"{statistics.mean(sizes) / 1024:.0f} KiB each; round trip median "
                    f"{statistics.median(round_trips) * 1000:.2f} ms; server handling "
                    f"median {statistics.median(handling) * 1000:.2f} ms, "
                    f"max {max(handling) * 1000:.2f} ms"
                )
