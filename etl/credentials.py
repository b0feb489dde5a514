"""The PagerDuty API token: where it comes from, and a wrapper that never prints it.

The token is read from ``PAGERDUTY_API_TOKEN`` or from a token file (``--token-file``), never
from the command line, where it would land in shell history and ``ps`` output. It travels
through pagerlens inside a :class:`Secret`, whose ``repr``/``str`` are a fixed mask, so a stray
``print``, log call, f-string or traceback shows ``Secret('***')`` rather than the value. Only
``etl.pd_client`` calls :meth:`Secret.reveal`, to build the ``Authorization`` header; every
other place that must keep the token out of a text (a failure note, the CLI's last line of
defence) asks the secret to scrub it (:meth:`Secret.scrub`, :func:`scrub`), wherever the token
came from (the environment or a file).
"""

from __future__ import annotations

import logging
import os
import stat
import unicodedata
from collections.abc import Mapping
from pathlib import Path

TOKEN_ENV = "PAGERDUTY_API_TOKEN"
_MASK = "***"
REDACTED = "[redacted]"

log = logging.getLogger(__name__)


class CredentialsError(RuntimeError):
    """No usable API token; the message says where pagerlens looked (never the value)."""


class TokenFormatError(CredentialsError):
    """The token cannot be sent in an HTTP header as it is: the message names the problem and
    its position, never the token."""


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

    def scrub(self, text: str) -> str:
        """``text`` with every occurrence of the secret replaced by ``[redacted]`` (values
        shorter than 4 characters are left alone: they would redact ordinary words)."""
        if len(self._value) >= 4:
            return text.replace(self._value, REDACTED)
        return text

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

    Surrounding whitespace is ignored (so ``echo TOKEN > file`` works); the token itself must be
    one line of printable ASCII (:func:`check_token`). A token file that group or others can
    read gets a warning, as ssh gives for a private key. Raises :class:`CredentialsError`
    naming the source when the token is missing, empty or malformed, never the value.
    """
    if token_file is not None:
        path = Path(token_file)
        value = read_secret_file(path, "token").strip()
        _SEEN.append(Secret(value))  # scrubbed from messages even if it is refused below
        return Secret(check_token(value, f"the token in {path}"))
    value = read_secret_env(
        TOKEN_ENV,
        "PagerDuty API token",
        "--token-file",
        "a read-only REST API v2 key is enough",
        env,
    )
    _SEEN.append(Secret(value))
    return Secret(check_token(value, TOKEN_ENV))


# Every token this process has read, so that the CLI can scrub any message whatever raised.
_SEEN: list[Secret] = []


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` without any token this process read (from a file or the environment) and
    without the value of ``PAGERDUTY_API_TOKEN``, even if it was never read."""
    environ = os.environ if env is None else env
    secrets = [*_SEEN, Secret(environ.get(TOKEN_ENV, "").strip())]
    for secret in secrets:
        text = secret.scrub(text)
    return text


def check_token(value: str, source: str = "the API token") -> str:
    """``value`` if an HTTP header can carry it as the token, else :class:`TokenFormatError`.

    PagerDuty keys are printable ASCII without spaces; a line break, a control character,
    inner whitespace or a non-ASCII character (a pasted non-breaking space, a typographic
    quote) is a copy-and-paste accident. Left in, it fails much later as an encoding error or
    what looks like a network fault. The message names the character's kind and position (a
    character that cannot be in a token gives nothing of it away), never the token.
    """
    for position, char in enumerate(value, start=1):
        if "!" <= char <= "~":
            continue
        if char in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029":
            problem = "a line break"
        elif char in " \t":
            problem = "a space" if char == " " else "a tab"
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            problem = f"a control character (U+{ord(char):04X})"
        else:
            name = unicodedata.name(char, "unnamed")
            problem = f"a non-ASCII character (U+{ord(char):04X} {name})"
        raise TokenFormatError(
            f"{source} contains {problem} at character {position}; an API token is one line "
            "of printable ASCII: copy it again from PagerDuty (Integrations > API Access Keys)"
        )
    return value


def read_secret_env(
    name: str, what: str, file_option: str, hint: str, env: Mapping[str, str] | None = None
) -> str:
    """The value of the environment variable ``name``, surrounding whitespace removed.

    Raises :class:`CredentialsError` when it is unset or blank, saying how to provide ``what``
    (set ``name`` or pass ``file_option``; ``hint``: which secret it is), never a value.
    """
    environ = os.environ if env is None else env
    value = environ.get(name, "").strip()
    if not value:
        raise CredentialsError(f"no {what}: set {name} or pass {file_option} PATH ({hint})")
    return value


def read_secret_file(path: Path, what: str) -> str:
    """The text of a file holding a secret (``what``: "token", "webhook secret"), not empty.

    A file that group or others can read gets a warning, as ssh gives for a private key.
    Raises :class:`CredentialsError` naming the file and the problem, never its content.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CredentialsError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise CredentialsError(f"cannot read {what} file {path}: {exc.strerror}") from None
    _warn_if_shared(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TokenFormatError(
            f"{what} file {path} is not UTF-8 text (byte {exc.start + 1} cannot be decoded)"
        ) from None
    if not text.strip():
        raise CredentialsError(f"{what} file {path} is empty")
    return text


def _warn_if_shared(path: Path, what: str = "token") -> None:
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "%s file %s is readable by %s (mode %04o): restrict it with `chmod 600 %s`",
            what,
            path,
            "group and others"
            if mode & stat.S_IRGRP and mode & stat.S_IROTH
            else ("others" if mode & stat.S_IROTH else "group"),
            mode,
            path,
        )


def as_secret(token: Secret | str) -> Secret:
    """Accept a plain string at the library boundary and wrap it at once."""
    return token if isinstance(token, Secret) else Secret(token)
