"""The PagerDuty API token: where it comes from, and a wrapper that never prints it.

The token is read from ``PAGERDUTY_API_TOKEN`` or from a token file (``--token-file``), never
from the command line, where it would land in shell history and ``ps`` output. It travels
through pagerlens inside a :class:`Secret`, whose ``repr``/``str`` are a fixed mask, so a stray
``print``, log call, f-string or traceback shows ``Secret('***')`` rather than the value. Only
``etl.pd_client`` calls :meth:`Secret.reveal`, to build the ``Authorization`` header.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TOKEN_ENV = "PAGERDUTY_API_TOKEN"
_MASK = "***"


class CredentialsError(RuntimeError):
    """No usable API token; the message says where pagerlens looked (never the value)."""


class Secret:
    """A string that does not show itself: ``str``/``repr``/``format`` give ``***``.

    Equality compares values so tests can check a round trip without revealing it; hashing is
    deliberately not offered (a secret has no business being a dict key or set member).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        """The secret value, for the one place that must send it (the auth header)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return other._value == self._value
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pragma: no cover - defensive
        # Pickling would write the value to disk or a pipe; refuse rather than leak.
        raise TypeError("a Secret cannot be pickled")


def read_token(
    token_file: str | os.PathLike | None = None, env: Mapping[str, str] | None = None
) -> Secret:
    """The API token from ``token_file`` if given, else from ``PAGERDUTY_API_TOKEN``.

    A token file holds the token on its first non-empty line (surrounding whitespace is
    ignored, so ``echo TOKEN > file`` works). Raises :class:`CredentialsError` naming the
    source when the token is missing or empty.
    """
    if token_file is not None:
        path = Path(token_file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CredentialsError(f"token file not found: {path}") from None
        except OSError as exc:
            raise CredentialsError(f"cannot read token file {path}: {exc.strerror}") from None
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise CredentialsError(f"token file {path} is empty")
        return Secret(lines[0])
    environ = os.environ if env is None else env
    value = environ.get(TOKEN_ENV, "").strip()
    if not value:
        raise CredentialsError(
            f"no PagerDuty API token: set {TOKEN_ENV} or pass --token-file PATH "
            "(a read-only REST API v2 key is enough)"
        )
    return Secret(value)


def as_secret(token: Secret | str) -> Secret:
    """Accept a plain string at the library boundary and wrap it at once."""
    return token if isinstance(token, Secret) else Secret(token)
