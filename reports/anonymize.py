"""Stable pseudonyms for responders, for reports sent beyond the team (``--anonymize``).

A responder is shown as ``Responder 7F3A``: the first hex digits of an HMAC-SHA256 of the
PagerDuty user id, keyed with a per-warehouse salt. The same person keeps the same pseudonym
in every report of one warehouse (so a reader can follow "Responder 7F3A" from week to week), a
reader cannot reverse it without the salt, and two warehouses give unrelated pseudonyms.

The salt is kept next to the warehouse in ``<db>.anon-salt`` (created once, mode 0600; the
warehouse itself is read-only for reports), or taken from ``PAGERLENS_ANON_SALT`` when set.

Names also appear in free text (an incident title such as "Disk full, Alice Johnson is on it"):
:meth:`Pseudonymizer.scrub` replaces every known real name with its pseudonym and every e-mail
address with ``[email]``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

SALT_ENV = "PAGERLENS_ANON_SALT"
PREFIX = "Responder"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def salt_path(db_path: str | os.PathLike) -> Path:
    """Where the per-warehouse salt is kept: ``<db>.anon-salt``."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".anon-salt")


def load_salt(db_path: str | os.PathLike) -> bytes:
    """The warehouse's anonymization salt, created on first use.

    ``PAGERLENS_ANON_SALT`` wins (for read-only deployments); otherwise ``<db>.anon-salt`` is
    read, or written with 128 random bits and owner-only permissions.
    """
    from_env = os.environ.get(SALT_ENV)
    if from_env:
        return from_env.encode("utf-8")
    path = salt_path(db_path)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    salt = secrets.token_bytes(16)
    # O_EXCL: two reports started at once must not each write a different salt.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(salt.hex() + "\n")
    return salt


class Pseudonymizer:
    """Maps user ids to stable pseudonyms and scrubs real names out of text."""

    def __init__(self, salt: bytes, digits: int = 4):
        self._salt = salt
        self._digits = digits
        self._names: dict[str, str] = {}
        self._real_names: dict[str, str] = {}

    def _digest(self, user_id: str) -> str:
        return hmac.new(self._salt, str(user_id).encode("utf-8"), hashlib.sha256).hexdigest()

    def pseudonym(self, user_id: str) -> str:
        """``Responder XXXX`` for one user id (consistent with :meth:`register`)."""
        if user_id not in self._names:
            self.register({user_id: None})
        return self._names[user_id]

    def register(self, users: Mapping[str, str | None]) -> None:
        """Learn user ids and their real names (names are only used to scrub free text).

        Pseudonyms are lengthened for ids whose short forms collide, so two people never share
        one within a report.
        """
        for user_id, real_name in users.items():
            if user_id is None:
                continue
            user_id = str(user_id)
            if real_name:
                self._real_names[str(real_name)] = user_id
            self._names.setdefault(user_id, "")
        digests = {uid: self._digest(uid) for uid in self._names}
        length = self._digits
        while True:
            short = {uid: d[:length].upper() for uid, d in digests.items()}
            if len(set(short.values())) == len(short) or length >= 16:
                break
            length += 2
        self._names = {uid: f"{PREFIX} {code}" for uid, code in short.items()}

    def scrub(self, text: object) -> object:
        """Text with known real names replaced by pseudonyms and e-mail addresses removed."""
        if not isinstance(text, str):
            return text
        text = _EMAIL.sub("[email]", text)
        # Longest names first, so "Ann Lee-Smith" is replaced before "Ann Lee".
        for real_name in sorted(self._real_names, key=len, reverse=True):
            if real_name and real_name in text:
                text = text.replace(real_name, self._names[self._real_names[real_name]])
        return text

    @property
    def real_names(self) -> Iterable[str]:
        """The real names this pseudonymizer knows (for tests that check nothing leaks)."""
        return tuple(self._real_names)
