"""Webhook signatures (PagerDuty webhooks v3) and the subscription secret.

PagerDuty signs every delivery with the subscription's secret: ``X-PagerDuty-Signature`` holds
``v1=<hex HMAC-SHA256 of the raw body>``, several of them comma-separated while a secret is
being rotated (one per secret in force). A delivery is genuine when any ``v1`` signature
matches the HMAC under any secret we hold; every comparison is constant-time
(:func:`hmac.compare_digest`), and signatures of another scheme (``v0=``, ``v2=``) are ignored,
so a header with only those is refused.

The secret is read from ``PAGERLENS_WEBHOOK_SECRET`` or from a file (``--secret-file``), never
from the command line, and lives inside a :class:`WebhookSecret`: like
:class:`etl.credentials.Secret` it prints as ``***`` and cannot be pickled, and it goes further:
it never hands its value out at all, it only signs (the API token's ``reveal()`` stays the
client's alone). A secret file may hold several secrets, one per line, for rotation on our
side.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from etl.credentials import read_secret_env, read_secret_file

SECRET_ENV = "PAGERLENS_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-PagerDuty-Signature"
SCHEME = "v1"


class WebhookSecret:
    """A webhook signing secret that signs and never shows itself (``***`` when printed)."""

    __slots__ = ("_key",)

    def __init__(self, value: str):
        if not isinstance(value, str):
            raise TypeError("WebhookSecret wraps a str")
        self._key = value.encode("utf-8")

    def hexdigest(self, body: bytes) -> str:
        """HMAC-SHA256 of ``body`` under this secret, in hex."""
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "WebhookSecret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WebhookSecret):
            return hmac.compare_digest(self._key, other._key)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):  # pragma: no cover - defensive
        raise TypeError("a WebhookSecret cannot be pickled")


def sign(body: bytes, secret: WebhookSecret) -> str:
    """The ``v1=<hex>`` signature of ``body`` under ``secret`` (as PagerDuty computes it)."""
    return f"{SCHEME}={secret.hexdigest(body)}"


def verify(body: bytes, header: str | None, secrets: Iterable[WebhookSecret]) -> bool:
    """Whether ``header`` carries a ``v1`` signature of ``body`` under one of ``secrets``.

    Every candidate is compared (no early exit on the first mismatch), each in constant time.
    A missing or empty header, or one without any ``v1=`` part, is not valid.
    """
    if not header:
        return False
    offered = []
    for part in header.split(","):
        scheme, sep, value = part.strip().partition("=")
        if sep and scheme == SCHEME and value:
            offered.append(value.strip().lower().encode("ascii", "replace"))
    if not offered:
        return False
    valid = False
    for secret in secrets:
        expected = secret.hexdigest(body).encode("ascii")
        for candidate in offered:
            valid |= hmac.compare_digest(expected, candidate)
    return valid


def read_webhook_secrets(
    secret_file: str | os.PathLike | None = None, env: Mapping[str, str] | None = None
) -> list[WebhookSecret]:
    """The webhook secret(s) from ``secret_file`` (one per line) or ``PAGERLENS_WEBHOOK_SECRET``.

    Raises :class:`etl.credentials.CredentialsError` naming the source, never the value.
    """
    if secret_file is not None:
        text = read_secret_file(Path(secret_file), "webhook secret")
        return [WebhookSecret(line.strip()) for line in text.splitlines() if line.strip()]
    value = read_secret_env(
        SECRET_ENV,
        "webhook secret",
        "--secret-file",
        "the secret PagerDuty showed when the webhook subscription was created",
        env,
    )
    return [WebhookSecret(value)]
