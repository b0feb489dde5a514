"""The simulated PagerDuty's gatekeeping and failures: token auth, the rate limit with its
``ratelimit-*`` headers and 429s, and seeded fault injection (reproducible per request number).
"""

from __future__ import annotations

import json

import httpx2
import pytest

from simulator.faults import FAULT_KINDS, FaultSpec
from simulator.server import SimServer
from tests.simulator.server_helpers import client as _client
from tests.simulator.tiny_account import TOKEN, tiny_account


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
