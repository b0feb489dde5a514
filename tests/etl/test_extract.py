"""Unit tests of the ETL's building blocks: credentials, client policy, limiter, windows, loader.

The client is exercised against a tiny scripted HTTP server on loopback (each request pops the
next canned answer), so retries, Retry-After and error texts are checked on real HTTP.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from etl.credentials import CredentialsError, Secret, read_token
from etl.extract import Extractor, Listing, Window, windows
from etl.load import Loader, Scope, oncall_id, read_watermarks, validate, write_watermark
from etl.pd_client import (
    AuthenticationError,
    InsecureUrlError,
    PagerDutyClient,
    PagerDutyError,
    RateLimiter,
    RetryPolicy,
    check_api_url,
    retry_after_seconds,
)
from etl.sync import parse_when
from etl.warehouse import ensure_raw_schema

TOKEN = "u+SECRETtoken-1234567890"
FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)


# -- a scripted server ------------------------------------------------------------------------
class Scripted:
    """Answers from a queue: (status, headers, body bytes | None=drop the connection)."""

    def __init__(self) -> None:
        self.answers: deque[tuple[int, dict[str, str], bytes | None]] = deque()
        self.seen: list[tuple[str, dict[str, list[str]], str | None]] = []
        self.default: tuple[int, dict[str, str], bytes | None] = (
            200,
            {},
            json.dumps({"things": [], "more": False}).encode(),
        )
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                scripted.seen.append(
                    (parts.path, parse_qs(parts.query), self.headers.get("Authorization"))
                )
                status, headers, body = (
                    scripted.answers.popleft() if scripted.answers else scripted.default
                )
                if body is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def add(self, status: int, body: object = None, headers: dict | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
        self.answers.append((status, headers or {}, raw))

    def drop(self) -> None:
        self.answers.append((0, {}, None))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    server = Scripted()
    yield server
    server.close()


def client_for(server: Scripted, **kw) -> PagerDutyClient:
    kw.setdefault("retry", FAST)
    kw.setdefault("limiter", RateLimiter(60_000))
    return PagerDutyClient(Secret(TOKEN), base_url=server.url, **kw)


# -- credentials ------------------------------------------------------------------------------
def test_secret_never_shows_its_value():
    secret = Secret(TOKEN)
    for text in (str(secret), repr(secret), f"{secret}", f"{secret!r}", str([secret])):
        assert TOKEN not in text and "1234" not in text
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN) and secret != Secret("other")


def test_read_token_from_env_and_file(tmp_path):
    assert read_token(env={"PAGERDUTY_API_TOKEN": f"  {TOKEN}\n"}).reveal() == TOKEN
    path = tmp_path / "token"
    path.write_text(f"\n{TOKEN}\n")
    assert read_token(path, env={}).reveal() == TOKEN
    with pytest.raises(CredentialsError, match="PAGERDUTY_API_TOKEN"):
        read_token(env={})
    path.write_text("  \n")
    with pytest.raises(CredentialsError, match="empty"):
        read_token(path, env={})


# -- base URL ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://api.pagerduty.com",
        "https://api.eu.pagerduty.com/",
        "http://127.0.0.1:8080",
        "http://127.3.4.5",
        "http://localhost:9000",
        "http://[::1]:8080",
    ],
)
def test_accepted_api_urls(url):
    assert check_api_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.pagerduty.com",
        "http://10.0.0.1:8080",
        "http://localhost.evil.example",
        "ftp://127.0.0.1",
        "https://user:pw@api.pagerduty.com",
    ],
)
def test_refused_api_urls(url):
    with pytest.raises(InsecureUrlError):
        check_api_url(url)
    with pytest.raises(InsecureUrlError):
        PagerDutyClient(Secret(TOKEN), base_url=url)


# -- client policy ----------------------------------------------------------------------------
def test_client_sends_token_header_and_decodes(scripted):
    scripted.add(200, {"things": [{"id": "P1"}], "more": False})
    with client_for(scripted) as client:
        body = client.get_json("/services", {"include[]": ["teams"]}, expect_list="things")
    assert body["things"] == [{"id": "P1"}]
    path, query, auth = scripted.seen[0]
    assert path == "/services" and query["include[]"] == ["teams"]
    assert auth == f"Token token={TOKEN}"


def test_retries_429_5xx_drops_and_malformed_bodies_then_succeeds(scripted):
    scripted.add(429, {"error": {"message": "Rate Limit Exceeded"}}, {"Retry-After": "0"})
    scripted.add(503, {"error": {"message": "unavailable"}})
    scripted.drop()
    scripted.add(200, b'{"things": [{"id": "P1"}')  # truncated JSON
    scripted.add(200, {"things": [{"id": "P1"}]})
    client = client_for(scripted, retry=RetryPolicy(max_attempts=6, base_delay=0.001))
    body = client.get_json("/services", expect_list="things")
    assert body["things"][0]["id"] == "P1"
    stats = client.stats()
    assert stats["requests"] == 5 and stats["retries"] == 4
    assert stats["retry_reasons"] == {"http": 2, "network": 1, "malformed": 1}


def test_body_without_the_expected_list_is_retried(scripted):
    scripted.add(200, {"unexpected": True})
    scripted.add(200, {"things": []})
    client = client_for(scripted)
    assert client.get_json("/services", expect_list="things") == {"things": []}
    assert client.stats()["requests"] == 2


def test_retry_budget_is_bounded(scripted):
    for _ in range(10):
        scripted.add(500, {"error": {"message": "boom"}})
    client = client_for(scripted)
    with pytest.raises(PagerDutyError, match=r"GET /services failed after 4 attempts"):
        client.get_json("/services", expect_list="things")
    assert len(scripted.seen) == 4


def test_401_is_one_clear_line_without_the_token(scripted):
    scripted.add(401, {"error": {"message": "Unauthorized", "code": 2006}})
    client = client_for(scripted)
    with pytest.raises(AuthenticationError) as info:
        client.get_json("/incidents", expect_list="incidents")
    message = str(info.value)
    assert message.startswith("PagerDuty rejected the API token (401)")
    assert "\n" not in message
    for fragment in (TOKEN, TOKEN[-4:], TOKEN[:6]):
        assert fragment not in message
    assert TOKEN not in repr(info.value) and info.value.__cause__ is None
    assert len(scripted.seen) == 1  # never retried


def test_other_4xx_fails_without_retry_and_names_the_error(scripted):
    scripted.add(400, {"error": {"message": "Invalid Input Provided", "errors": ["bad since"]}})
    client = client_for(scripted)
    with pytest.raises(PagerDutyError, match="HTTP 400: Invalid Input Provided: bad since"):
        client.get_json("/incidents", expect_list="incidents")
    assert len(scripted.seen) == 1


def test_library_helpers_go_through_our_policy(scripted):
    """iter_all (used by the naive benchmark baseline) gets our retries, not endless 429s."""
    scripted.add(429, {}, {"Retry-After": "0"})
    scripted.add(200, {"services": [{"id": "P1"}], "more": False, "limit": 100, "offset": 0})
    client = client_for(scripted)
    assert [s["id"] for s in client.iter_all("/services")] == ["P1"]
    assert client.stats()["retries"] == 1


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("garbage") is None
    http_date = "Wed, 21 Oct 2015 07:28:00 GMT"
    reference = datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC).timestamp()
    assert retry_after_seconds(http_date, now=reference) == pytest.approx(10.0)


def test_retry_policy_delay_is_bounded_with_jitter():
    import random

    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=0.5)
    rng = random.Random(1)
    delays = [policy.delay(n, rng) for n in range(1, 10)]
    assert all(0 < d <= 8.0 for d in delays)
    assert 0.5 <= delays[0] <= 1.0 and 4.0 <= delays[-1] <= 8.0


# -- limiter ----------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_limiter_paces_at_the_rate_without_server_budget():
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock, sleep=clock.sleep)  # 10 per second
    for _ in range(11):
        limiter.acquire()
        limiter.release(None)
    assert clock.now - 1000.0 == pytest.approx(1.0)


def test_limiter_uses_server_budget_then_honours_reset():
    clock = FakeClock()
    limiter = RateLimiter(60, reserve=2, clock=clock, sleep=clock.sleep)  # 1 per second
    limiter.acquire()
    limiter.release({"ratelimit-remaining": "5", "ratelimit-reset": "30"})
    for _ in range(3):  # budget 5 > reserve 2: no waiting
        limiter.acquire()
    assert clock.now == 1000.0
    limiter.acquire()  # budget is down to the reserve: paced again (one second apart)
    assert clock.now == pytest.approx(1001.0)
    limiter.release({"ratelimit-remaining": "0", "ratelimit-reset": "30"})
    limiter.acquire()
    assert clock.now == pytest.approx(1031.0)


def test_limiter_block_for_holds_everyone():
    clock = FakeClock()
    limiter = RateLimiter(60_000, clock=clock, sleep=clock.sleep)
    limiter.block_for(2.5)
    limiter.acquire()
    assert clock.now == pytest.approx(1002.5)


# -- windows ----------------------------------------------------------------------------------
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_windows_cover_the_range_without_gaps():
    parts = windows(T0, T0 + timedelta(days=400), timedelta(days=180))
    assert [p.until - p.since for p in parts] == [timedelta(days=180)] * 2 + [timedelta(days=40)]
    assert all(a.until == b.since for a, b in zip(parts, parts[1:], strict=False))


def test_window_split_on_whole_seconds():
    window = Window(T0, T0 + timedelta(seconds=10))
    parts = window.split(3)
    assert [p.since.second for p in parts] == [0, 3, 6] and parts[-1].until == window.until
    assert Window(T0, T0 + timedelta(seconds=1)).split(4) == [Window(T0, T0 + timedelta(seconds=1))]


def test_parse_when():
    assert parse_when("2026-08-01") == datetime(2026, 8, 1, tzinfo=UTC)
    assert parse_when("2026-08-01T06:00:00Z") == datetime(2026, 8, 1, 6, tzinfo=UTC)
    assert parse_when("2026-08-01T08:00:00+02:00") == datetime(2026, 8, 1, 6, tzinfo=UTC)
    assert parse_when("2026-08-01T06:00") == datetime(2026, 8, 1, 6, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        parse_when("yesterday")


# -- loader -----------------------------------------------------------------------------------
def incident(iid: str, created: str = "2026-01-05T10:00:00Z", **extra) -> dict:
    record = {
        "id": iid,
        "type": "incident",
        "summary": f"[#1] {iid}",
        "html_url": f"https://acme.pagerduty.com/incidents/{iid}",
        "created_at": created,
        "status": "triggered",
        "service": {"id": "PSVC", "type": "service_reference"},
        "alert_counts": {"all": 1, "triggered": 1, "resolved": 0},
    }
    record.update(extra)
    return record


def log_entry(lid: str, inc: dict, created: str = "2026-01-05T10:00:00Z", **extra) -> dict:
    record = {
        "id": lid,
        "type": "trigger_log_entry",
        "created_at": created,
        "incident": inc,
        "channel": {"type": "api", "summary": "disk full", "details": {"host": "db1"}},
    }
    record.update(extra)
    return record


@pytest.fixture
def con():
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    yield connection
    connection.close()


SCOPE = Scope(T0, T0 + timedelta(days=30))


@pytest.mark.parametrize(
    ("resource", "record", "reason"),
    [
        ("incidents", {"status": "triggered"}, "missing created_at"),
        ("incidents", incident("P1", created="yesterday"), "created_at: bad timestamp"),
        ("incidents", incident("P1", created="2026-01-05T10:00:00"), "without a time zone"),
        ("incidents", incident("P1", incident_number="7"), "incident_number: expected int"),
        ("incidents", incident("P1", service="PSVC"), "service: expected an object"),
        ("incidents", {**incident("P1"), "id": None}, "missing id"),
        ("incidents", {**incident("P1"), "id": 17}, "id is not a string"),
        ("log_entries", log_entry("R1", incident("P1"), type=5), "type: expected str"),
        ("oncalls", {"user": {"id": "U"}, "escalation_level": 1}, "missing escalation_policy"),
        ("users", ["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_validate_rejects_with_reason(resource, record, reason):
    with pytest.raises(ValueError, match=reason):
        validate(resource, record)


def test_oncall_key_is_md5_of_its_identity():
    record = {
        "escalation_policy": {"id": "EP"},
        "user": {"id": "U"},
        "schedule": None,
        "escalation_level": 1,
        "start": "2026-01-01T00:00:00Z",
        "end": None,
    }
    import hashlib

    expected = hashlib.md5(b"|EP|U|1|2026-01-01T00:00:00Z|").hexdigest()
    assert validate("oncalls", record) == oncall_id(record) == expected


def test_loader_upserts_idempotently_and_counts_rejects(con):
    loader = Loader(con, "run-1", SCOPE, batch_size=2)
    good = [incident("P1"), incident("P2"), incident("P3")]
    bad = [{"id": "P4", "created_at": "never", "status": "x", "service": {"id": "S"}}]
    assert loader.add("incidents", good + bad) == 3
    loader.add("incidents", [incident("P1", status="resolved")])
    loader.flush()
    rows = con.execute("select id, payload->>'$.status' from raw_incidents order by id").fetchall()
    assert rows == [("P1", "resolved"), ("P2", "triggered"), ("P3", "triggered")]
    rejects = con.execute("select source, record_key, reason, run_id from _rejects").fetchall()
    assert rejects == [("incidents", "P4", "created_at: bad timestamp 'never'", "run-1")]
    assert loader.counts.rejects == 1


def test_loader_splits_inline_incidents_and_keeps_unknown_entry_types(con):
    inside = incident("P1", status="acknowledged")
    before_scope = incident("P0", created="2025-06-01T00:00:00Z", status="resolved")
    loader = Loader(con, "run-1", SCOPE)
    loader.add(
        "log_entries",
        [
            log_entry("R1", inside),
            log_entry("R2", before_scope, type="acknowledge_log_entry"),
            log_entry("R3", inside, type="brand_new_log_entry"),
        ],
    )
    loader.flush()
    entries = dict(con.execute("select id, payload from raw_log_entries").fetchall())
    assert set(entries) == {"R1", "R2", "R3"}
    reference = json.loads(entries["R1"])["incident"]
    assert reference == {
        "id": "P1",
        "type": "incident_reference",
        "summary": "[#1] P1",
        "html_url": "https://acme.pagerduty.com/incidents/P1",
    }
    # The in-scope inline incident lands in raw_incidents; the one created before does not.
    assert con.execute("select id, payload->>'$.status' from raw_incidents").fetchall() == [
        ("P1", "acknowledged")
    ]
    assert con.execute("select count(*) from _rejects").fetchall() == [(0,)]


def test_watermarks_round_trip(con):
    write_watermark(con, "log_entries", T0)
    write_watermark(con, "log_entries", T0 + timedelta(days=1))
    assert read_watermarks(con) == {"log_entries": T0 + timedelta(days=1)}


# -- extractor against the scripted server ----------------------------------------------------
def page(items: list[dict], total: int | None, more: bool) -> dict:
    return {"things": items, "total": total, "more": more, "limit": 2}


def test_extractor_pages_in_parallel_after_the_total(scripted, con):
    scripted.add(200, page([{"id": "A"}, {"id": "B"}], 5, True))
    for _ in range(2):
        scripted.add(200, page([{"id": "C"}, {"id": "D"}], None, True))
    loader = Loader(con, "run", SCOPE)
    extractor = Extractor(client_for(scripted), loader, workers=2, page_size=2)
    extractor.run([Listing("teams", "/teams", "things")])
    offsets = [int(q["offset"][0]) for _, q, _ in scripted.seen]
    assert offsets[0] == 0 and sorted(offsets[1:3]) == [2, 4]
    assert scripted.seen[0][1]["total"] == ["true"]
    assert all("total" not in q for _, q, _ in scripted.seen[1:3])
    # 2 + 2 + 2 records received but 5 announced: the listing is read once more from the top.
    assert extractor.stats.rechecks == 1
    assert offsets[3:] == [0] and scripted.seen[3][1]["total"] == ["true"]
    assert sorted(r[0] for r in con.execute("select id from raw_teams").fetchall()) == [
        "A",
        "B",
        "C",
        "D",
    ]


def test_extractor_splits_a_window_over_the_cap(scripted, con):
    scripted.add(200, page([{"id": "X"}], 25, True))  # over a cap of 10: split, discard
    scripted.default = (200, {}, json.dumps(page([], 0, False)).encode())
    loader = Loader(con, "run", SCOPE)
    extractor = Extractor(client_for(scripted), loader, workers=1, page_size=2, offset_cap=10)
    window = Window(T0, T0 + timedelta(days=4))
    extractor.run([Listing("teams", "/x", "things", {}, window)])
    assert extractor.stats.splits == 1
    # ceil(25 / 8) = 4 sub-windows of one day each, each asked for its total.
    windows_asked = sorted((q["since"][0], q["until"][0]) for _, q, _ in scripted.seen[1:])
    assert windows_asked == [
        (f"2026-01-0{d}T00:00:00Z", f"2026-01-0{d + 1}T00:00:00Z") for d in range(1, 5)
    ]
    assert con.execute("select count(*) from raw_teams").fetchall() == [(0,)]
