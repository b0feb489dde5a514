"""Fault injection for the simulated PagerDuty: seeded, per-request, reproducible.

A :class:`FaultSpec` says how often each kind of failure happens. The server numbers the API
requests it receives (1, 2, 3, ...; admin ``/_sim/*`` requests are not counted) and asks
:meth:`FaultSpec.decide` for request number *n*. The decision is a pure function of
``(seed, n)``: the same spec and the same request order give the same faults, run after run,
whatever the timing, so a test that saw a 502 on the 7th request sees it again.

Spec strings (the ``--faults`` option of ``pagerlens simulate serve``)::

    429=0.05,500=0.02,502=0.01,503=0.01,504=0.01,slow=0.02:2.0,drop=0.01,
    malformed=0.01,truncated=0.01,seed=3,expire_token_after=500

* ``429``/``500``/``502``/``503``/``504``: probability of answering with that status and
  PagerDuty's error body (a fault 429 carries ``Retry-After: 1``).
* ``slow=p:seconds``: probability and delay of a slow (but otherwise normal) response.
* ``drop``: the connection is closed without any response.
* ``malformed``: HTTP 200 whose body is not valid JSON (correct ``Content-Length``).
* ``truncated``: HTTP 200 whose ``Content-Length`` is larger than the body sent, then the
  connection is closed.
* ``seed``: seed of the decisions (default 0).
* ``expire_token_after=N``: requests after the N-th answer 401, as if the key were revoked.

The probabilities are of disjoint outcomes and must add up to at most 1.

Disabled endpoints (``disabled_endpoints``, the ``--disable-endpoint /priorities=402`` option
of ``pagerlens simulate serve``) answer every request on that path (and below it) with what a
real account answers when a feature is missing, after authentication and the rate limit, as
PagerDuty checks them: 402 when the plan lacks the ability (the spec's ``PaymentRequired``),
403 when the key may not read it (``Forbidden``), 404 when the feature is switched off (an
account with priorities disabled answers ``GET /priorities`` with 404). Unlike the random
faults these are not retried by a client: they hold until the endpoint is enabled again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.protocol import ApiError, not_found

# Order matters: it fixes how the unit interval is cut into outcomes, and so which request
# gets which fault for a given seed. Appending new kinds at the end keeps old seeds stable.
FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "502",
    "503",
    "504",
    "slow",
    "drop",
    "malformed",
    "truncated",
)
ERROR_STATUS_KINDS = frozenset({"429", "500", "502", "503", "504"})
# PagerDuty's error body for a missing feature: the messages follow the OpenAPI spec's shared
# responses (components/responses PaymentRequired, Forbidden, NotFound); 2010 and 2100 are the
# codes the simulator already answers for access denied and not found, the spec names no code
# for 402 (2000 is the generic one).
GATE_STATUSES = (402, 403, 404)


def gate_error(status: int) -> ApiError:
    """The error a disabled endpoint answers (402, 403 or 404)."""
    if status == 402:
        return ApiError(
            402,
            "Payment Required",
            2000,
            [
                "Account does not have the abilities to perform the action. Please review "
                "the response for the required abilities."
            ],
        )
    if status == 403:
        return ApiError(
            403,
            "Access Denied",
            2010,
            ["The authenticated user or token does not have permission to perform this action."],
        )
    if status == 404:
        return not_found()
    raise ValueError(f"a disabled endpoint answers 402, 403 or 404, not {status}")


def parse_disabled_endpoint(text: str) -> tuple[str, int]:
    """``"/priorities=402"`` as ``("/priorities", 402)``; raises ValueError if invalid."""
    path, sep, status_text = text.strip().partition("=")
    path = "/" + path.strip().strip("/")
    if not sep or path == "/" or not status_text.strip().isdigit():
        raise ValueError(f"{text!r} is not PATH=STATUS, e.g. /priorities=402")
    status = int(status_text)
    if status not in GATE_STATUSES:
        raise ValueError(f"{text!r}: a disabled endpoint answers 402, 403 or 404")
    return path, status


@dataclass(frozen=True)
class Fault:
    """The fault chosen for one request: ``kind`` is one of :data:`FAULT_KINDS`."""

    kind: str
    delay_seconds: float = 0.0

    @property
    def status(self) -> int | None:
        """The HTTP status this fault answers with, or None if it does not answer normally."""
        if self.kind in ERROR_STATUS_KINDS:
            return int(self.kind)
        if self.kind in ("malformed", "truncated"):
            return 200
        return None


@dataclass(frozen=True)
class FaultSpec:
    """How often each fault happens; ``FaultSpec()`` injects nothing.

    ``rates`` maps a kind of :data:`FAULT_KINDS` to its probability per request;
    ``disabled_endpoints`` maps a path (``"/priorities"``) to the status it answers.
    """

    rates: dict[str, float] = field(default_factory=dict)
    slow_seconds: float = 2.0
    seed: int = 0
    expire_token_after: int | None = None
    disabled_endpoints: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kind(s): {', '.join(sorted(unknown))}")
        for kind, rate in self.rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate for {kind} must be between 0 and 1, got {rate}")
        if sum(self.rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates add up to more than 1")
        if self.slow_seconds < 0:
            raise ValueError("slow delay must not be negative")
        if self.expire_token_after is not None and self.expire_token_after < 0:
            raise ValueError("expire_token_after must not be negative")
        for path, status in self.disabled_endpoints.items():
            parse_disabled_endpoint(f"{path}={status}")

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Parse ``"429=0.05,slow=0.02:2.0,drop=0.01,seed=3"``; raises ValueError if invalid."""
        rates: dict[str, float] = {}
        slow_seconds = 2.0
        seed = 0
        expire: int | None = None
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not value:
                raise ValueError(f"fault spec item {part!r} is not key=value")
            try:
                if key == "seed":
                    seed = int(value)
                elif key == "expire_token_after":
                    expire = int(value)
                elif key == "slow":
                    rate_text, _, seconds_text = value.partition(":")
                    rates["slow"] = float(rate_text)
                    if seconds_text:
                        slow_seconds = float(seconds_text)
                elif key in FAULT_KINDS:
                    rates[key] = float(value)
                else:
                    raise ValueError(
                        f"unknown fault {key!r} (known: {', '.join(FAULT_KINDS)}, seed, "
                        "expire_token_after)"
                    )
            except ValueError as exc:
                if "unknown fault" in str(exc):
                    raise
                raise ValueError(f"fault spec item {part!r}: {exc}") from None
        return cls(rates=rates, slow_seconds=slow_seconds, seed=seed, expire_token_after=expire)

    def __str__(self) -> str:
        parts = []
        for kind in FAULT_KINDS:
            rate = self.rates.get(kind)
            if rate:
                parts.append(
                    f"slow={rate}:{self.slow_seconds}" if kind == "slow" else f"{kind}={rate}"
                )
        parts.append(f"seed={self.seed}")
        if self.expire_token_after is not None:
            parts.append(f"expire_token_after={self.expire_token_after}")
        return ",".join(parts)

    @property
    def active(self) -> bool:
        """True if this spec can inject anything at all."""
        return (
            any(self.rates.values())
            or self.expire_token_after is not None
            or bool(self.disabled_endpoints)
        )

    def gate(self, path: str) -> ApiError | None:
        """The error a disabled endpoint answers for ``path`` (or a path below it), or None."""
        for disabled, status in self.disabled_endpoints.items():
            if path == disabled or path.startswith(disabled + "/"):
                return gate_error(status)
        return None

    def decide(self, request_number: int) -> Fault | None:
        """The fault for the ``request_number``-th API request (1-based), or None.

        A hash of ``(seed, request_number)`` rather than a shared RNG: the answer does not
        depend on which thread asks first, only on the request's number.
        """
        if not any(self.rates.values()):
            return None
        digest = hashlib.blake2b(f"{self.seed}:{request_number}".encode(), digest_size=8).digest()
        point = int.from_bytes(digest, "big") / 2**64
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.rates.get(kind, 0.0)
            if point < edge:
                return Fault(kind, self.slow_seconds if kind == "slow" else 0.0)
        return None

    def token_expired(self, request_number: int) -> bool:
        """True if the ``request_number``-th request comes after the token's expiry."""
        return self.expire_token_after is not None and request_number > self.expire_token_after
