"""Authentication and rate limiting of the simulated PagerDuty.

Exactly ``Authorization: Token token=<token>`` is accepted; a token bucket per credential
holds ``rate_per_minute`` requests and refills continuously.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time


def authorized(credential: str, token: str) -> bool:
    """True if the ``Authorization`` header is exactly PagerDuty's form for ``token``."""
    return credential == f"Token token={token}"


class RateLimiter:
    """Token buckets per credential: ``rate_per_minute`` capacity, refilled continuously.

    Headers follow PagerDuty: ``ratelimit-limit`` (requests per minute), ``ratelimit-remaining``
    (whole tokens left) and ``ratelimit-reset`` (seconds until the bucket is full again; on a
    429, seconds until a request will be accepted, the same as ``Retry-After``).
    """

    def __init__(self, rate_per_minute: int) -> None:
        if rate_per_minute < 1:
            raise ValueError("rate_per_minute must be at least 1")
        self.capacity = float(rate_per_minute)
        self.refill_per_second = rate_per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.refill_per_second)

    def take(self, credential: str, consume: bool = True) -> tuple[bool, dict[str, str]]:
        """Try to spend one token; returns (allowed, headers). ``consume=False`` only peeks."""
        # Buckets are keyed by a digest so the credential itself is never kept around.
        key = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            tokens = self._level(key, now)
            allowed = tokens >= 1.0
            if allowed and consume:
                tokens -= 1.0
            if consume:
                if len(self._buckets) > 10_000:
                    self._buckets.clear()
                self._buckets[key] = (tokens, now)
        headers = {
            "ratelimit-limit": str(int(self.capacity)),
            "ratelimit-remaining": str(int(tokens)),
        }
        if allowed:
            headers["ratelimit-reset"] = str(
                math.ceil((self.capacity - tokens) / self.refill_per_second)
            )
        else:
            wait = max(1, math.ceil((1.0 - tokens) / self.refill_per_second))
            headers["ratelimit-reset"] = str(wait)
            headers["Retry-After"] = str(wait)
        return allowed, headers
