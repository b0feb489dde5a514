"""The simulated PagerDuty plays its account forward and delivers signed v3 webhooks.

:class:`WebhookPlayer` moves a running :class:`~simulator.server.SimServer`'s clock from
``start`` to ``end`` at ``speed`` simulated seconds per real second. The server already serves
the account *as of* its clock (incidents and log entries created after it do not exist yet,
statuses are those at the clock), so advancing the clock is how the account "moves forward"
for the REST API: no change to the account model or the endpoints was needed.

Each log entry that the clock passes becomes a v3 event, as PagerDuty would send it:
``trigger`` -> ``incident.triggered``, ``acknowledge``, ``unacknowledge``, ``resolve``,
``escalate``, ``assign`` -> ``incident.reassigned``, ``annotate`` -> ``incident.annotated`` (an
``incident_note``); notifications send none, as in PagerDuty. The body carries the incident as
of the event (PagerDuty's summary shape: ``number``, ``assignees``, ...), is signed
``X-PagerDuty-Signature: v1=<HMAC-SHA256>`` with every secret given (rotation), and is
delivered *at least once*, like PagerDuty: a share is sent twice, deliveries leave in a
jittered (so partly shuffled) order, and any answer but 2xx, or no answer, is retried with
exponential backoff up to ``max_attempts``.

This module imports nothing of ``etl`` (signing is a few lines of ``hmac``).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import json
import random
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from simulator.index import index_for

EVENT_TYPES = {
    "trigger_log_entry": "incident.triggered",
    "acknowledge_log_entry": "incident.acknowledged",
    "unacknowledge_log_entry": "incident.unacknowledged",
    "resolve_log_entry": "incident.resolved",
    "escalate_log_entry": "incident.escalated",
    "assign_log_entry": "incident.reassigned",
    "annotate_log_entry": "incident.annotated",
}
_INCIDENT_SUMMARY_KEYS = (
    "id",
    "type",
    "self",
    "html_url",
    "status",
    "incident_key",
    "created_at",
    "title",
    "service",
    "escalation_policy",
    "teams",
    "priority",
    "urgency",
)


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    event_id: str = field(compare=False)
    body: bytes = field(compare=False, repr=False)
    attempts: int = field(default=0, compare=False)


@dataclass
class PlayStats:
    """What a play sent; ``emitted`` maps event ids to (real time emitted, incident id, entry
    id) for freshness measurements."""

    events: int = 0
    deliveries: int = 0
    duplicates_sent: int = 0
    retries: int = 0
    failed: int = 0
    answers: Counter = field(default_factory=Counter)
    emitted: dict[str, tuple[float, str, str]] = field(default_factory=dict)


def sign(body: bytes, secrets: Sequence[str]) -> str:
    """``X-PagerDuty-Signature``: one ``v1=`` HMAC-SHA256 per secret, comma-separated."""
    return ",".join(
        "v1=" + hmac.new(s.encode("utf-8"), body, hashlib.sha256).hexdigest() for s in secrets
    )


def event_for(sim: Any, entry: dict) -> dict | None:
    """The v3 event PagerDuty would send for one log entry of ``sim`` (None: no webhook)."""
    event_type = EVENT_TYPES.get(entry.get("type"))
    if event_type is None:
        return None
    at = datetime.fromisoformat(entry["created_at"])
    # A clock-skewed entry may predate its incident (planted on purpose): describe the
    # incident as it first existed.
    incident = sim.as_of(max(at, datetime.fromisoformat(sim.incident["created_at"])))[0]
    if event_type == "incident.annotated":
        data = {
            "incident": {k: incident[k] for k in ("id", "self", "html_url", "summary")},
            "id": "N" + entry["id"][1:14],
            "content": entry.get("note") or "",
            "trimmed": False,
            "type": "incident_note",
        }
        data["incident"]["type"] = "incident_reference"
    else:
        data = {k: incident.get(k) for k in _INCIDENT_SUMMARY_KEYS}
        data["number"] = incident.get("incident_number")
        data["assignees"] = [a["assignee"] for a in incident.get("assignments") or []]
        data["conference_bridge"] = None
        data["resolve_reason"] = None
    agent = entry.get("agent")
    return {
        "event": {
            "id": "01" + hashlib.sha256(entry["id"].encode()).hexdigest()[:24].upper(),
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "agent": agent if isinstance(agent, dict) else None,
            "client": None,
            "data": data,
        }
    }


class WebhookPlayer:
    """Plays ``server``'s account forward and delivers its events to ``url`` (see module)."""

    def __init__(
        self,
        server: Any,
        url: str,
        secrets: Sequence[str],
        *,
        speed: float = 60.0,
        start: datetime | None = None,
        end: datetime | None = None,
        tick: float = 0.2,
        duplicate_rate: float = 0.2,
        jitter: float = 0.5,
        max_attempts: int = 8,
        backoff: float = 0.2,
        senders: int = 4,
        seed: int = 0,
    ):
        if not secrets:
            raise ValueError("the player needs a webhook secret")
        self.server = server
        self.url = url
        self.secrets = list(secrets)
        self.speed = speed
        self.end = end or server.account.end
        self.start = start or self.end - timedelta(days=1)
        self.tick = tick
        self.duplicate_rate = duplicate_rate
        self.jitter = jitter
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.senders = senders
        self.stats = PlayStats()
        self._rng = random.Random(seed)
        self._index = index_for(server.account)
        self._queue: list[_Delivery] = []
        self._cond = threading.Condition()
        self._in_flight = 0
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------------------
    def start_background(self) -> None:
        self._thread = threading.Thread(target=self.run, name="sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run(self, on_tick: Callable[[datetime], None] | None = None) -> PlayStats:
        """Play from ``start`` to ``end``, then wait for every delivery to finish or give up."""
        senders = [
            threading.Thread(target=self._send_loop, name=f"sim-webhook-{i}", daemon=True)
            for i in range(self.senders)
        ]
        for thread in senders:
            thread.start()
        self.server.set_clock(self.start)
        started = time.monotonic()
        previous = None
        while not self._stop.is_set():
            elapsed = timedelta(seconds=(time.monotonic() - started) * self.speed)
            now = min(self.end, self.start + elapsed)
            self.server.set_clock(now)
            self._emit_between(previous, now)
            if on_tick is not None:
                on_tick(now)
            previous = now
            if now >= self.end:
                break
            self._stop.wait(self.tick)
        self._wait_delivered()
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in senders:
            thread.join(timeout=10)
        return self.stats

    # -- events -------------------------------------------------------------------------------
    def _emit_between(self, previous: datetime | None, now: datetime) -> None:
        index = self._index
        low = (
            bisect_left(index.entry_ts, self.start.timestamp())
            if previous is None
            else bisect_right(index.entry_ts, previous.timestamp())
        )
        high = bisect_right(index.entry_ts, now.timestamp())
        for gidx in range(low, high):
            sim = index.incidents[index.entry_incident[gidx]]
            event = event_for(sim, index.entries[gidx])
            if event is not None:
                self._enqueue(event, sim.id, index.entries[gidx]["id"])

    def _enqueue(self, event: dict, incident_id: str, entry_id: str) -> None:
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        event_id = event["event"]["id"]
        now = time.monotonic()
        copies = 2 if self._rng.random() < self.duplicate_rate else 1
        with self._cond:
            self.stats.events += 1
            self.stats.duplicates_sent += copies - 1
            self.stats.emitted[event_id] = (time.time(), incident_id, entry_id)
            for copy in range(copies):
                delay = self._rng.uniform(0, self.jitter) + copy * self._rng.uniform(0, 2.0)
                self._push(_Delivery(now + delay, self._next_seq(), event_id, body))
            self._cond.notify_all()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _push(self, delivery: _Delivery) -> None:
        heapq.heappush(self._queue, delivery)

    # -- delivery -----------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while True:
            with self._cond:
                delivery = self._next_due()
                if delivery is None:
                    return
                self._in_flight += 1
            ok, answer = self._post(delivery.body)
            with self._cond:
                self._in_flight -= 1
                self.stats.deliveries += 1
                self.stats.answers[answer] += 1
                if not ok:
                    delivery.attempts += 1
                    if delivery.attempts >= self.max_attempts:
                        self.stats.failed += 1
                    else:
                        self.stats.retries += 1
                        wait = min(30.0, self.backoff * 2 ** (delivery.attempts - 1))
                        delivery.due = time.monotonic() + wait * (0.5 + self._rng.random() / 2)
                        self._push(delivery)
                self._cond.notify_all()

    def _next_due(self) -> _Delivery | None:
        """The next delivery whose time has come (waits for it); None once stopping and idle."""
        while True:
            if self._queue:
                wait = self._queue[0].due - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._queue)
                self._cond.wait(min(wait, 0.5))
            elif self._stop.is_set():
                return None
            else:
                self._cond.wait(0.5)

    def _post(self, body: bytes) -> tuple[bool, str]:
        parts = urlsplit(self.url)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-PagerDuty-Signature": sign(body, self.secrets),
            "X-Webhook-Subscription": "PSIMWHK",
        }
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("POST", parts.path or "/", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return 200 <= response.status < 300, str(response.status)
        except OSError as exc:
            return False, type(exc).__name__
        finally:
            connection.close()

    def _wait_delivered(self) -> None:
        with self._cond:
            while (self._queue or self._in_flight) and not self._stop.is_set():
                self._cond.wait(0.2)


def start_live_play(
    server: Any, url: str, secret_file: str, speed: float, hours: float = 24.0
) -> WebhookPlayer:
    """``pagerlens simulate serve --webhook-url``: play the account's last ``hours`` forward at
    ``speed`` in the background (the server's clock starts ``hours`` before the account's end).

    The secret file holds the subscription secret (several lines: one signature per secret,
    as PagerDuty signs during a rotation). Only loopback URLs: the simulator stays on this
    machine.
    """
    from simulator.protocol import is_loopback

    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme != "http" or not is_loopback(host):
        raise ValueError(f"--webhook-url must be http:// on a loopback host, not {url!r}")
    with open(secret_file, encoding="utf-8") as handle:
        secrets = [line.strip() for line in handle if line.strip()]
    if not secrets:
        raise ValueError(f"webhook secret file {secret_file} is empty")
    end = server.account.end
    player = WebhookPlayer(server, url, secrets, speed=speed, start=end - timedelta(hours=hours))
    server.set_clock(player.start)
    player.start_background()
    return player
