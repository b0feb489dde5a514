"""The simulated PagerDuty's queries: pagination, since/until windows, filters, sorting,
includes, log entries, the clock, on-calls and catalogs.

Exact-value tests run against the hand-built four-incident account (``tiny_account``);
every request goes over real HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from simulator.protocol import add_months
from tests.simulator.server_helpers import client as _client
from tests.simulator.server_helpers import ids as _ids
from tests.simulator.tiny_account import END


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
