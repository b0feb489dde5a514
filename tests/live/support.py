"""Helpers for the live tests: fixtures on disk, signing, posting to a receiver."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

from etl.live.signature import WebhookSecret, sign

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET_TEXT = "test-subscription-secret-0123456789"
SECRET = WebhookSecret(SECRET_TEXT)


def fixture_body(name: str) -> bytes:
    """A fixture's exact bytes (the signature is over the raw body)."""
    return (FIXTURES / name).read_bytes()


def with_event_id(name: str, event_id: str) -> bytes:
    """A fixture delivery re-serialised with another ``event.id``."""
    document = json.loads(fixture_body(name))
    document["event"]["id"] = event_id
    return json.dumps(document).encode()


def post(
    url: str,
    body: bytes,
    *,
    signature: str | None = None,
    secret: WebhookSecret | None = SECRET,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict]:
    """POST ``body`` to ``url``; signed with ``secret`` unless ``signature`` is given."""
    parts = urlsplit(url)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if signature is not None:
        sent["X-PagerDuty-Signature"] = signature
    elif secret is not None:
        sent["X-PagerDuty-Signature"] = sign(body, secret)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("POST", parts.path or "/", body=body, headers=sent)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()
