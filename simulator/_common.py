"""Small helpers shared by the simulator modules: ids, timestamps, references, seeded RNGs.

Everything here is on the hot path of the scale generator (millions of log entries), so the
helpers avoid datetime objects and work on integer epoch seconds.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

API_BASE = "https://api.pagerduty.com"
WEB_BASE = "https://acme.pagerduty.com"

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_M3 = 36**3
_M6 = 36**6
_M25 = 16**25
# Every number below 36**3 as 3 base-36 digits, least significant first (pd_id writes its
# digits in that order): two lookups instead of six divmods per id.
_B36_LOW_FIRST = tuple(a + b + c for c in _B36 for b in _B36 for a in _B36)

# Disjoint counter ranges per kind of object, so two objects never share an id.
ORG_BASE = 0
INCIDENT_BASE = 10_000_000
ALERT_BASE = 200_000_000
# Log entry counters are incident_number * LOG_SLOTS + index within the incident.
LOG_SLOTS = 1024


def seeded_rng(seed: int, *labels: object) -> random.Random:
    """A Random seeded from the account seed and a label path (stable across processes)."""
    return random.Random(":".join(str(x) for x in (seed, *labels)))


def _digest_int(seed: int, label: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{label}".encode()).digest()[:12], "big")


class IdFactory:
    """PagerDuty-looking ids from counters through a seeded affine bijection.

    ``x -> (a * x + b) mod 36**6`` with ``a`` coprime to 36 is a permutation, so distinct
    counters give distinct ids, yet consecutive counters do not look consecutive.
    """

    def __init__(self, seed: int) -> None:
        a = _digest_int(seed, "id-a") % _M6
        while a % 2 == 0 or a % 3 == 0:
            a += 1
        self._a, self._b = a, _digest_int(seed, "id-b") % _M6
        a25 = _digest_int(seed, "log-a") % _M25
        self._a25, self._b25 = a25 | 1, _digest_int(seed, "log-b") % _M25

    def pd_id(self, counter: int) -> str:
        """A 7-character id "P" + 6 base-36 characters."""
        high, low = divmod((self._a * counter + self._b) % _M6, _M3)
        return "P" + _B36_LOW_FIRST[low] + _B36_LOW_FIRST[high]

    def log_id(self, incident_number: int, index: int) -> str:
        """A 26-character log entry id "R" + 25 hexadecimal characters."""
        # 16**25 is a power of two: the modulo is a mask.
        x = (self._a25 * (incident_number * LOG_SLOTS + index) + self._b25) & (_M25 - 1)
        return f"R{x:025X}"


_DAY_PREFIX: dict[int, str] = {}
# "HH:MM:SSZ" for every second of a day (86,400 short strings, ~5 MB): iso() is called for
# every timestamp of millions of log entries, and a lookup is several times cheaper than
# formatting.
_TIME_OF_DAY = tuple(
    f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
)


def iso(t: int) -> str:
    """ISO 8601 UTC with a Z suffix for integer epoch seconds (fast: cached date prefix)."""
    day, sec = divmod(int(t), 86400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
        _DAY_PREFIX[day] = prefix
    return prefix + _TIME_OF_DAY[sec]


def parse_iso(value: str) -> int:
    """Epoch seconds of an ISO 8601 timestamp (as written by :func:`iso`, or with an offset)."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def epoch(dt: datetime) -> int:
    """Epoch seconds of an aware datetime (naive datetimes are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def ref(kind: str, obj_id: str, summary: str, path: str, web_path: str | None = None) -> dict:
    """A PagerDuty reference object: ``{id, type: <kind>_reference, summary, self, html_url}``."""
    return {
        "id": obj_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API_BASE}/{path}/{obj_id}",
        "html_url": f"{WEB_BASE}/{web_path or path}/{obj_id}",
    }
