"""The receiver over HTTP: 401/400/411/413 refusals counted and never stored, duplicates
de-duplicated by event.id, unknown types kept, slow clients cut off, bounded threads."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from etl.live import Receiver, Spool, WebhookSecret
from tests.live.support import SECRET, SECRET_TEXT, fixture_body, post, with_event_id


@pytest.fixture
def receiver(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    server = Receiver(
        spool, [SECRET], max_body=8192, max_threads=4, socket_timeout=1.0, read_deadline=2.0
    )
    server.start()
    yield server
    server.stop()
    spool.close()


def test_signed_real_delivery_is_stored_once(receiver):
    body = fixture_body("acknowledged_v3.json")
    assert post(receiver.url, body) == (200, {"status": "stored"})
    assert post(receiver.url, body) == (200, {"status": "duplicate"})
    status = receiver.spool.status()
    assert (status["pending"], status["duplicate_deliveries"]) == (1, 1)
    assert receiver.spool.event_ids() == ["01BZYK8N47N5JG55J1EEEHPEJI"]
    assert receiver.snapshot()["stored"] == 1


@pytest.mark.parametrize(
    "signature",
    [None, "v1=" + "0" * 64, "v0=abc", "v1=", "garbage"],
    ids=["missing", "forged", "wrong-scheme", "empty", "garbage"],
)
def test_bad_signatures_get_401_and_are_not_stored(receiver, signature):
    body = fixture_body("triggered_v3.json")
    status, answer = post(receiver.url, body, signature=signature, secret=None)
    assert status == 401 and "Signature" in answer["error"]
    assert receiver.spool.event_ids() == []
    assert receiver.snapshot()["unauthorized"] == 1


def test_signed_with_another_secret_gets_401(receiver):
    body = fixture_body("triggered_v3.json")
    assert post(receiver.url, body, secret=WebhookSecret("not-the-subscription-secret"))[0] == 401


def test_rotated_pair_is_accepted(receiver):
    from etl.live.signature import sign

    body = fixture_body("resolved_v3.json")
    header = f"{sign(body, WebhookSecret('old-secret-being-rotated'))},{sign(body, SECRET)}"
    assert post(receiver.url, body, signature=header)[0] == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", 'no "event"'),
        (b'{"event": {"event_type": "incident.triggered"}}', "event.id"),
        (
            b'{"event": {"id": "E1", "occurred_at": "2026-03-01T00:00:00Z", "data": {}}}',
            "event.event_type",
        ),
        (
            b'{"event": {"id": "E1", "event_type": "incident.triggered", "occurred_at": "yesterday",'
            b' "data": {}}}',
            "occurred_at",
        ),
        (
            b'{"event": {"id": "E1", "event_type": "incident.triggered",'
            b' "occurred_at": "2026-03-01T00:00:00Z"}}',
            "event.data",
        ),
        (
            b'{"event": {"id": "E1", "event_type": "incident.triggered",'
            b' "occurred_at": "2026-03-01T00:00:00Z", "data": {"type": "thing"}}}',
            "names no incident",
        ),
        (b"\xff\xfe garbage", "not JSON"),
    ],
)
def test_signed_garbage_gets_400_with_a_reason(receiver, body, reason):
    status, answer = post(receiver.url, body)
    assert status == 400 and reason in answer["error"]
    assert receiver.spool.event_ids() == []


def test_oversize_body_gets_413_before_it_is_read(receiver):
    body = b'{"event": {"id": "' + b"x" * 9000 + b'"}}'
    status, answer = post(receiver.url, body)
    assert status == 413 and "8192" in answer["error"]
    assert receiver.snapshot()["too_large"] == 1


def test_unknown_and_service_events_are_kept_and_reported(receiver):
    document = json.loads(fixture_body("acknowledged_v3.json"))
    document["event"].update(id="E-unknown", event_type="incident.teleported")
    assert post(receiver.url, json.dumps(document).encode())[0] == 200
    service = {
        "event": {
            "id": "E-svc",
            "event_type": "service.renamed",
            "resource_type": "service",
            "occurred_at": "2026-03-01T10:00:00Z",
            "data": {"id": "PF9KMXH", "type": "service"},
        }
    }
    assert post(receiver.url, json.dumps(service).encode())[0] == 200
    status = receiver.spool.status()
    assert status["pending"] == 1  # the unknown incident.* type still refreshes its incident
    assert status["kept_by_type"] == {"service.renamed": 1}
    assert status["unknown_by_type"] == {"incident.teleported": 1, "service.renamed": 1}


def test_every_real_fixture_is_accepted(receiver):
    for i, name in enumerate(
        ["triggered_v3.json", "acknowledged_v3.json", "resolved_v3.json", "annotated_v3.json"]
    ):
        assert post(receiver.url, with_event_id(name, f"E{i}"))[0] == 200
    # The annotated event is a note: its incident is the note's reference, not data.id.
    assert receiver.spool.pending().incident_ids == [
        "PCPZE64",
        "PFQZPSY",
        "PQ1K5C8",
        "Q3B15VLMF3ASBD",
    ]


def test_slow_client_is_cut_off_and_others_are_served(receiver):
    # Half-open clients: headers promising a body that never comes hold no slot for long.
    stalled = []
    for _ in range(4):
        sock = socket.create_connection((receiver.host, receiver.port))
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        stalled.append(sock)
    time.sleep(0.2)
    # Every slot is taken: a new connection is told to come back, at once, before it sends.
    with socket.create_connection((receiver.host, receiver.port), timeout=5) as extra:
        assert extra.recv(100).startswith(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1")
    time.sleep(1.5)  # the socket timeout frees the slots
    assert post(receiver.url, with_event_id("triggered_v3.json", "E-after"))[0] == 200
    for sock in stalled:
        sock.close()
    counts = receiver.snapshot()
    assert counts["busy"] >= 1 and counts["timeouts"] == 4


def test_no_content_length_gets_411_and_healthz_counts(receiver):
    with socket.create_connection((receiver.host, receiver.port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 411")
    post(receiver.url, fixture_body("resolved_v3.json"), signature="v1=00")
    connection = http.client.HTTPConnection(receiver.host, receiver.port, timeout=5)
    connection.request("GET", "/healthz")
    answer = json.loads(connection.getresponse().read())
    connection.close()
    assert answer["counts"]["bad_request"] == 1 and answer["counts"]["unauthorized"] == 1
    assert SECRET_TEXT not in json.dumps(answer)
