"""The simulated PagerDuty as a running server: the request log, stopping, binding loopback
only (IPv4 and IPv6), TLS with the pagerduty client, the entry points and page latency.
"""

from __future__ import annotations

import json
import socket
import ssl
import statistics
import threading
import time
from datetime import UTC, datetime

import httpx2
import pytest

from simulator.server import SimServer
from tests.simulator.server_helpers import client as _client
from tests.simulator.tiny_account import TOKEN, tiny_account


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
