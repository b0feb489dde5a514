"""The PagerDuty REST API v2 client: the only module of pagerlens that imports ``pagerduty``.

:class:`PagerDutyClient` subclasses ``pagerduty.RestApiV2Client`` (python-pagerduty 7.x) and
replaces three of its behaviours that do not suit an unattended nightly job:

* Base URL: the library refuses anything but ``https://``. We accept plain ``http://`` for
  loopback hosts only (the simulator, tests) and refuse it for anything else, so a typo can
  never send the token in clear over a network.
* Retries: the library retries 429 forever, ignores ``Retry-After`` and does not retry 5xx.
  Every request here first takes a slot from a shared, thread-safe :class:`RateLimiter` that
  paces to the account's rate and honours ``ratelimit-remaining``/``ratelimit-reset`` and
  ``Retry-After``; 429, 500/502/503/504, network errors and malformed or truncated JSON bodies
  are retried with bounded exponential backoff and jitter, within a per-request attempt
  budget (:class:`RetryPolicy`).
* Errors: the library's 401 message quotes the last characters of the token. Ours never
  contain the token or any part of it: :class:`AuthenticationError` is one fixed line.

Requests and retries are counted (:meth:`PagerDutyClient.stats`) for the run summary.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from pagerduty import RestApiV2Client

from etl.credentials import Secret, as_secret, check_token

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.pagerduty.com"
# PagerDuty's documented REST API limit for an account-level key.
DEFAULT_RATE_PER_MINUTE = 960
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PagerDutyError(RuntimeError):
    """A request to the PagerDuty API failed for good; the message is safe to print."""


class AuthenticationError(PagerDutyError):
    """The API rejected the token (HTTP 401)."""

    def __init__(self) -> None:
        super().__init__(
            "PagerDuty rejected the API token (401): check PAGERDUTY_API_TOKEN or --token-file, "
            "that the key is not revoked or expired, and the region of --api-url"
        )


# A valid key's 402: the plan lacks the ability; 403: the key may not read it; 404: the
# feature is off (an account with priorities disabled answers GET /priorities with 404).
UNAVAILABLE_MEANINGS = {402: "not in the plan", 403: "not readable with this key", 404: "absent"}


class EndpointUnavailable(PagerDutyError):
    """A GET answered 402, 403 or 404; ``detail`` is PagerDuty's error message (safe)."""

    def __init__(self, path: str, status: int, detail: str):
        suffix = f": {detail}" if detail else ""
        super().__init__(
            f"GET {path} returned HTTP {status} ({UNAVAILABLE_MEANINGS[status]}){suffix}"
        )
        self.path, self.status, self.detail = path, status, detail


class InsecureUrlError(ValueError):
    """A plain-http API URL that is not on this machine."""


def check_api_url(url: str) -> str:
    """Validate an API base URL and return it without a trailing slash.

    ``https://`` is accepted for any host; ``http://`` only for loopback hosts (127.0.0.0/8,
    ::1, localhost), because the token travels in a header on every request.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureUrlError(f"not an http(s) URL: {url!r}")
    if parts.username or parts.password:
        # Credentials in a URL end up in logs and the warehouse's run table.
        raise InsecureUrlError("the API URL must not contain credentials (user:password@)")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InsecureUrlError(
            f"refusing plain http:// for non-loopback host {parts.hostname!r}: "
            "use https:// (plain http is only for a simulator on 127.0.0.1)"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is retried.

    ``max_attempts`` counts every try of one request (first try included). The delay before
    retry ``n`` is ``min(max_delay, base_delay * 2**(n-1))`` scaled by a random factor in
    ``[1 - jitter, 1]`` so concurrent workers do not retry in lockstep; a server's
    ``Retry-After`` wins when it asks for longer, up to ``retry_after_cap`` seconds (a guard
    against a proxy asking for hours). Tests set the delays to milliseconds.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    retry_after_cap: float = 300.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry_number`` (1-based)."""
        raw = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return raw * (1.0 - self.jitter * rng.random())


class RateLimiter:
    """A thread-safe pacer shared by every worker of a run.

    Two sources of truth, the stricter wins:

    * The server's budget. Every PagerDuty response says how many requests are left
      (``ratelimit-remaining``). While that budget (less the requests already in flight) is
      above ``reserve``, requests go out without delay; when it reaches zero every worker waits
      ``ratelimit-reset`` seconds; a 429's ``Retry-After`` holds everyone back likewise.
    * Our own pacing. Without a budget from the server (first request, proxies that strip the
      headers) or once it runs low, requests are spaced ``60 / rate_per_minute`` seconds apart
      (GCRA), so a concurrent run settles at the account's rate instead of bouncing off it.
    """

    def __init__(
        self,
        rate_per_minute: float = DEFAULT_RATE_PER_MINUTE,
        *,
        reserve: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.interval = 60.0 / rate_per_minute
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # GCRA ("virtual scheduling"): _tat is the earliest start of the next paced request.
        self._tat = clock()
        self._blocked_until = 0.0
        self._budget: float | None = None  # server's remaining count, less our unseen sends
        self._in_flight = 0
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until this caller may send one request; pair it with :meth:`release`."""
        with self._lock:
            now = self._clock()
            if self._budget is not None and self._budget > self.reserve:
                start = max(now, self._blocked_until)
                self._budget -= 1
                self._tat = max(self._tat, start)
            else:
                start = max(now, self._tat, self._blocked_until)
                self._tat = start + self.interval
            self._in_flight += 1
            wait = start - now
            self.waited_seconds += wait
        if wait > 0:
            self._sleep(wait)

    def release(self, headers: Mapping[str, str] | None = None) -> None:
        """One request is over; ``headers`` are its response's (None if there was none)."""
        remaining = reset = None
        if headers is not None:
            remaining = _header_number(headers, "ratelimit-remaining")
            reset = _header_number(headers, "ratelimit-reset")
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if remaining is not None:
                # Requests still in flight may have reached the server after this answer.
                self._budget = remaining - self._in_flight
                if remaining <= 0 and reset is not None:
                    self._blocked_until = max(self._blocked_until, self._clock() + reset)

    def block_for(self, seconds: float) -> None:
        """Hold every worker back for ``seconds`` from now (the server asked us to back off)."""
        if seconds <= 0:
            return
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
            self._budget = None


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class PagerDutyClient(RestApiV2Client):
    """``RestApiV2Client`` with loopback-only http, a shared limiter, bounded retries, safe errors.

    Thread-safe: one instance is shared by the workers of a run (httpx2's ``Client`` pools
    connections across threads; our counters are guarded by a lock).
    """

    def __init__(
        self,
        token: Secret | str,
        *,
        base_url: str = DEFAULT_API_URL,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        seed: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        secret = as_secret(token)
        if not secret:
            raise PagerDutyError("the PagerDuty API token is empty")
        # Before any request: a pasted line break or non-ASCII character would otherwise fail
        # as an encoding error or what looks like a network fault (message without the token).
        check_token(secret.reveal())
        super().__init__(secret.reveal(), base_url=check_api_url(base_url))
        self.timeout = timeout
        self.limiter = limiter or RateLimiter()
        self.retry_policy = retry or RetryPolicy()
        self._rng = random.Random(seed)
        self._sleep = sleep
        self._cancelled = threading.Event()
        self._stats_lock = threading.Lock()
        self._requests = 0
        self._retries = 0
        self._retry_reasons: Counter[str] = Counter()
        # The library logs request URLs at debug level; they carry no secret, but keep its
        # logger quiet unless the user asked for pagerlens debug output.
        self.log = logging.getLogger("etl.pd_client.http")

    # -- base URL ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base URL (``https://``, or ``http://`` on loopback only)."""
        return self._url

    @url.setter
    def url(self, new_base_url: str) -> None:
        self._url = check_api_url(new_base_url)

    @property
    def trunc_key(self) -> str:
        # The library shows the token's last four characters in messages; show nothing.
        return "***"

    def cancel(self) -> None:
        """Make every further attempt fail at once (the run is failing anyway)."""
        self._cancelled.set()

    # -- statistics ----------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Requests sent (every attempt), retries, and retries by reason."""
        with self._stats_lock:
            return {
                "requests": self._requests,
                "retries": self._retries,
                "retry_reasons": dict(self._retry_reasons),
            }

    def _count(self, *, request: bool = False, retry_reason: str | None = None) -> None:
        with self._stats_lock:
            if request:
                self._requests += 1
            if retry_reason is not None:
                self._retries += 1
                self._retry_reasons[retry_reason] += 1

    # -- requests ------------------------------------------------------------------------------
    def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        """One API request under the shared limiter and our retry policy.

        Returns the final response for statuses that are not retried (2xx, 4xx other than
        401/429). Raises :class:`AuthenticationError` on 401 and :class:`PagerDutyError` when
        the attempt budget runs out. Used by the library's helpers (``iter_all``, ``rget``) too.
        """
        return self._send(method, url, kwargs, decode=False)[0]

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, expect_list: str | None = None
    ) -> dict[str, Any]:
        """GET ``path`` and return its decoded JSON object, retrying malformed bodies too.

        ``expect_list`` names the key that must hold a JSON array (``"incidents"`` for
        ``/incidents``): a body without it is treated like a truncated one and retried.
        """
        response, body = self._send(
            "GET", path, {"params": dict(params or {})}, decode=True, expect_list=expect_list
        )
        if response.status_code in UNAVAILABLE_MEANINGS:
            raise EndpointUnavailable(path, response.status_code, _error_detail(response))
        if response.status_code // 100 != 2:
            raise PagerDutyError(_failure_message("GET", path, response))
        return body

    def _send(
        self,
        method: str,
        url: str,
        kwargs: dict[str, Any],
        *,
        decode: bool,
        expect_list: str | None = None,
    ) -> tuple[httpx2.Response, Any]:
        method = method.strip().upper()
        if method not in self.permitted_methods:
            raise PagerDutyError(f"method {method} is not supported by the REST API")
        full_url = self.normalize_url(url)
        path = urlsplit(full_url).path
        req_kw = dict(kwargs)
        req_kw["headers"] = self.prepare_headers(method, user_headers=kwargs.get("headers"))
        req_kw["timeout"] = self.timeout
        req_kw["follow_redirects"] = False
        if kwargs.get("params"):
            req_kw["params"] = self.normalize_params(kwargs["params"])
        policy = self.retry_policy
        last_reason = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            if self._cancelled.is_set():
                raise PagerDutyError(f"{method} {path}: cancelled (the run is stopping)")
            self.limiter.acquire()
            self._count(request=True)
            try:
                response = self._attempt(method, full_url, req_kw)
                return response, _body(response, expect_list) if decode else None
            except _Retryable as exc:
                last_reason = exc.reason
                if attempt == policy.max_attempts:
                    break
                self._count(retry_reason=exc.reason.split(" ", 1)[0])
                wait = policy.delay(attempt, self._rng)
                if exc.wait is not None:
                    wait = max(wait, exc.wait)
                log.debug("%s %s: %s, retry %d in %.2fs", method, path, exc.reason, attempt, wait)
                self._sleep(wait)
        raise PagerDutyError(
            f"{method} {path} failed after {policy.max_attempts} attempts (last: {last_reason})"
        )

    def _attempt(self, method: str, full_url: str, req_kw: dict[str, Any]) -> httpx2.Response:
        """One attempt: the response, or :class:`_Retryable` when another may do better."""
        try:
            # httpx2.Client.request directly: the library's request() holds the retry loop
            # we are replacing.
            response = httpx2.Client.request(self, method, full_url, **req_kw)
        except httpx2.TransportError as exc:
            self.limiter.release(None)
            raise _Retryable(f"network {type(exc).__name__}") from None
        except httpx2.DecodingError as exc:
            self.limiter.release(None)
            raise _Retryable(f"malformed {type(exc).__name__}") from None
        except BaseException:
            self.limiter.release(None)
            raise
        self.limiter.release(response.headers)
        status = response.status_code
        if status == 401:
            raise AuthenticationError() from None
        if status in RETRY_STATUSES:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if wait is not None:
                wait = min(wait, self.retry_policy.retry_after_cap)
            if status == 429:
                # One worker's 429 means all of them are over: hold everyone back.
                self.limiter.block_for(wait if wait is not None else self.retry_policy.base_delay)
            raise _Retryable(f"http {status}", wait)
        if 300 <= status < 400:
            raise PagerDutyError(
                f"{method} {urlsplit(full_url).path}: unexpected redirect ({status})"
            )
        return response


def _body(response: httpx2.Response, expect_list: str | None) -> Any:
    """The decoded JSON object of a 2xx response (None otherwise); a malformed one (not JSON,
    not an object, no ``expect_list`` array) is :class:`_Retryable`, like a truncated body."""
    if response.status_code // 100 != 2:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise _Retryable("malformed JSON body") from None
    if not isinstance(body, dict):
        raise _Retryable("malformed body (not a JSON object)")
    if expect_list is not None and not isinstance(body.get(expect_list), list):
        raise _Retryable(f"malformed body (no {expect_list!r} list)")
    return body


def _error_detail(response: httpx2.Response) -> str:
    """PagerDuty's ``error.message`` and first ``errors`` of an error body, on one line."""
    detail = ""
    try:
        payload = response.json()
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            detail = str(error.get("message") or "")
            errors = error.get("errors")
            if isinstance(errors, list) and errors:
                detail += ": " + "; ".join(str(e) for e in errors[:3])
    except ValueError:
        pass
    return " ".join(detail.split())[:200]


def _failure_message(method: str, path: str, response: httpx2.Response) -> str:
    """A one-line description of a non-retried error response (never echoes headers)."""
    detail = _error_detail(response)
    suffix = f": {detail}" if detail else ""
    return f"{method} {path} returned HTTP {response.status_code}{suffix}"


def post_json(
    client: PagerDutyClient, path: str, body: Mapping[str, Any]
) -> tuple[int, dict[str, Any] | None, str]:
    """POST a JSON ``body`` (the Analytics API) under the client's limiter and retry policy.

    Returns the status, the decoded JSON object of a 2xx answer (else None) and, for any other
    status, a one-line description of the refusal (else ""), so a caller can tell a plan or key
    without access (402/403/404) from a failure. 401 raises :class:`AuthenticationError` as
    every request does.
    """
    response, decoded = client._send("POST", path, {"json": dict(body)}, decode=True)
    if response.status_code // 100 == 2:
        return response.status_code, decoded, ""
    return response.status_code, None, _failure_message("POST", path, response)
