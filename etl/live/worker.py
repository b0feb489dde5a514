"""The apply worker: drains the spool every few seconds, debounced, one apply at a time.

A burst of deliveries (an incident storm, PagerDuty's retries) becomes one apply: after the
first pending event the worker waits until no new event arrived for ``debounce`` seconds, or
``max_delay`` seconds have passed since it first saw one, then applies every pending event up
to the newest (:func:`etl.live.apply.apply_incidents`) and marks them applied only after the
publish. A crash in between re-applies them next time (an idempotent upsert). When the apply
cannot run (a sync holds the writer lock, the API is down, the warehouse was never synced) the
events stay pending and the worker tries again with a growing pause; nothing is dropped.

Every ``open_refresh_interval`` seconds (5 minutes) an apply also refreshes every incident
still open in the warehouse, events or not: PagerDuty sends no webhook for notifications, and
a delivery may never arrive. That apply also prunes the spool's events applied more than
``keep_applied`` ago (7 days).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from etl.config import Config
from etl.live.apply import ApplyResult, LiveSession, NotSynced, apply_incidents
from etl.live.spool import Spool
from etl.pd_client import PagerDutyClient, PagerDutyError
from etl.warehouse import WarehouseBusy

log = logging.getLogger(__name__)


@dataclass(eq=False, repr=False)
class ApplyWorker:
    """Applies the spool's pending events to the warehouse; ``start()`` runs it in a thread.

    ``db_path`` may be any path-like; the timing options are keywords, in seconds."""

    spool: Spool
    db_path: Path
    client: PagerDutyClient
    _: KW_ONLY
    config: Config | None = None
    poll_interval: float = 2.0
    debounce: float = 1.0
    max_delay: float = 5.0
    max_backoff: float = 60.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    batch_limit: int = 5000
    open_refresh_interval: float = 300.0
    keep_applied: timedelta = timedelta(days=7)
    # What the worker did so far (the CLI and the demo's summary read them).
    session: LiveSession = field(default_factory=LiveSession, init=False)
    applied_events: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)
    last_result: ApplyResult | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        self._last_open_refresh = time.monotonic()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_arrival = time.monotonic()
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------------------
    def notify(self) -> None:
        """A new event was stored (the receiver's ``on_stored``)."""
        self._last_arrival = time.monotonic()
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="pagerlens-apply", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the apply under way, if any (it publishes or leaves the warehouse as is)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop: wait for events, settle, apply; back off while the apply cannot run."""
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff or self.poll_interval)
            self._wake.clear()
            if self._stop.is_set():
                continue
            refresh_due = self._refresh_due()
            if self.spool.pending(limit=1) is None and not refresh_due:
                continue
            self._settle()
            try:
                self.apply_pending(refresh_open=refresh_due)
                backoff = 0.0
            except (WarehouseBusy, NotSynced, PagerDutyError, OSError) as exc:
                self.failures += 1
                backoff = min(self.max_backoff, max(self.poll_interval, 2 * backoff))
                log.warning("live apply postponed %.0f s: %s", backoff, exc)
            except Exception:  # noqa: BLE001 - keep listening; the events stay pending
                self.failures += 1
                backoff = self.max_backoff
                log.exception("live apply failed; events kept, retry in %.0f s", backoff)

    # -- one apply ----------------------------------------------------------------------------
    def apply_pending(self, *, refresh_open: bool = False) -> ApplyResult | None:
        """Apply the pending events now (no debounce), with every open incident too when
        ``refresh_open``; None when there was nothing to do."""
        batch = self.spool.pending(limit=self.batch_limit)
        if batch is None and not refresh_open:
            return None
        result = apply_incidents(
            self.db_path,
            batch.incident_ids if batch is not None else [],
            client=self.client,
            session=self.session,
            config=self.config,
            clock=self.clock,
            refresh_open=refresh_open,
            events=batch.events if batch is not None else 0,
            newest_event=batch.newest if batch is not None else None,
        )
        if refresh_open:
            self._last_open_refresh = time.monotonic()
            self.spool.prune(self.keep_applied)
        marked = self.spool.mark_applied(batch.last_seq) if batch is not None else 0
        self.applied_events += marked
        self.last_result = result
        log.info(
            "live apply: %d events, %d incidents refreshed (%d not found), %d requests, "
            "published in %.1f s",
            marked,
            result.incidents,
            len(result.missing),
            result.requests,
            result.seconds,
        )
        return result

    def drain(self, max_rounds: int = 100) -> int:
        """Apply until nothing is pending (tests, shutdown); returns the rounds that ran."""
        rounds = 0
        while rounds < max_rounds and self.apply_pending() is not None:
            rounds += 1
        return rounds

    def _refresh_due(self) -> bool:
        return time.monotonic() - self._last_open_refresh >= self.open_refresh_interval

    def _settle(self) -> None:
        first_seen = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            quiet = now - self._last_arrival
            if quiet >= self.debounce or now - first_seen >= self.max_delay:
                return
            time.sleep(min(self.debounce - quiet, 0.25))
