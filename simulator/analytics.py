"""PagerDuty Analytics of the simulated account, computed from the simulator's own histories.

The three Analytics endpoints (:mod:`simulator.endpoints.analytics`) read their figures from
here. Everything is derived from the simulated incidents' log entries as of the analytics
clock (:meth:`simulator.state.SimIncident.as_of` through :class:`simulator.index.Snapshot`),
never from pagerlens' SQL, so ``pagerlens reconcile`` compares two independent computations.

PagerDuty's own rules differ from pagerlens' in documented ways. Each difference is a named
*quirk* of :class:`AnalyticsSettings`, on by default, so a test can switch one off and see the
reconciler's matching reason disappear:

* ``integration_acks``: an acknowledgement by an integration or service counts as the first
  acknowledgement (pagerlens counts people only).
* ``lag``: Analytics lags the live account (``lag_hours``, default 24): incidents created in
  the last hours are missing and the others show their state as of the lagging clock.
* ``email_notifications``: ``total_notifications`` leaves email notifications out.
* ``interruptions_per_notification``: every phone/SMS/push notification is an interruption
  (pagerlens joins a user's notifications less than a minute apart into one).
* ``negative_durations``: a resolution timestamped before the incident's creation gives a
  negative ``seconds_to_resolve`` (pagerlens gives NULL and flags ``data_issue``).
* ``weeks_in_account_zone``: weekly buckets use the account's time zone
  (``account_time_zone``) whatever ``time_zone`` the request asked for.
* ``merged_incidents``: an incident merged into another (``resolve_reason`` of type
  ``merge_resolve_reason``) counts as an incident of its own, resolved at the merge, in the
  service-week counts and means (pagerlens leaves it out of the incident metrics). PagerDuty
  documents no exclusion of merged incidents from Analytics; this is the assumption. Either
  way the raw incident rows list it (with its time to the merge) and the sums (escalations,
  notifications, interruptions) include it, as pagerlens' do; off, the counts and means
  leave it out, as pagerlens does.

``tamper`` injects a wrong value into one incident (a simulated Analytics bug), and
``tamper_service_weeks`` into one service's weekly aggregates only, so a test can prove the
reconciler reports what it cannot explain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulator.index import AccountIndex, Snapshot
from simulator.protocol import epoch_of

QUIRKS = (
    "integration_acks",
    "lag",
    "email_notifications",
    "interruptions_per_notification",
    "negative_durations",
    "weeks_in_account_zone",
    "merged_incidents",
)
INTERRUPTING = frozenset({"sms_notification", "phone_notification", "push_notification"})
MERGE_SECONDS = 60  # pagerlens' default interruptions.merge_seconds
BUSINESS_HOURS = (8, 18)  # Monday to Friday, the user's local time
SLEEP_HOURS = (22, 8)  # every day


@dataclass(frozen=True)
class AnalyticsSettings:
    """How the simulated Analytics API behaves (see the module docstring).

    ``access``: None serves the endpoints; 402 (the plan lacks Analytics) or 403 (the key
    lacks access) refuses every Analytics request with that status.
    """

    access: int | None = None
    quirks: frozenset[str] = frozenset(QUIRKS)
    lag_hours: float = 24.0
    account_time_zone: str | None = None  # None: the account's own zone
    tamper: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A wrong value in the service x week aggregates only (by service id), not in the raw rows.
    tamper_service_weeks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def without(self, *names: str) -> AnalyticsSettings:
        """These settings with the named quirks switched off."""
        unknown = set(names) - set(QUIRKS)
        if unknown:
            raise ValueError(f"unknown analytics quirks: {sorted(unknown)}")
        return replace(self, quirks=self.quirks - set(names))

    def has(self, name: str) -> bool:
        return name in self.quirks

    def as_of(self, now: datetime) -> datetime:
        """The analytics clock: the server's clock less the lag."""
        return now - timedelta(hours=self.lag_hours) if self.has("lag") else now


def _local_bucket(moment: datetime) -> str:
    """sleep 22-08 every day, business 08-18 Monday-Friday, off_hour otherwise."""
    hour = moment.hour
    if hour >= SLEEP_HOURS[0] or hour < SLEEP_HOURS[1]:
        return "sleep"
    if moment.weekday() < 5 and BUSINESS_HOURS[0] <= hour < BUSINESS_HOURS[1]:
        return "business"
    return "off_hour"


class AccountAnalytics:
    """Per-incident Analytics rows of one account as of one analytics clock."""

    def __init__(self, index: AccountIndex, now: datetime, settings: AnalyticsSettings):
        self.index = index
        self.settings = settings
        self.as_of = settings.as_of(now)
        self.account_zone = ZoneInfo(settings.account_time_zone or index.tz.key)
        self._snap = Snapshot(index, self.as_of)
        self._states = [self._snap.state(pos) for pos in range(self._snap.incident_count)]
        self._interruptions = self._interruptions_by_incident()
        self.rows = [self._row(*state) for state in self._states]

    # ----------------------------------------------------------------- interruptions

    def _user_zone(self, user_id: str) -> ZoneInfo:
        # A user without a zone: the account's own (the REST API's), like pagerlens' default.
        user = self.index.by_id["users"].get(user_id) or {}
        try:
            return ZoneInfo(user.get("time_zone") or self.index.tz.key)
        except (KeyError, ValueError):
            return self.index.tz

    def _interruptions_by_incident(self) -> dict[str, dict[str, int]]:
        """Interruptions per incident and bucket, by the rule the settings say."""
        by_user: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for incident, entries, _ in self._states:
            for entry in entries:
                notification = (entry.get("channel") or {}).get("notification") or {}
                user_id = (entry.get("user") or {}).get("id")
                if (
                    entry["type"] == "notify_log_entry"
                    and notification.get("type") in INTERRUPTING
                    and user_id
                ):
                    by_user[user_id].append((epoch_of(entry["created_at"]), incident["id"]))
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        merge = 0 if self.settings.has("interruptions_per_notification") else MERGE_SECONDS
        for user_id, notes in by_user.items():
            zone = self._user_zone(user_id)
            previous = None
            for at, incident_id in sorted(notes):
                if previous is None or at - previous > merge or merge == 0:
                    local = datetime.fromtimestamp(at, zone)
                    counts[incident_id][_local_bucket(local)] += 1
                previous = at
        return counts

    # ----------------------------------------------------------------- one incident

    def _first_ack(self, entries: list[dict]) -> float | None:
        counted = [
            epoch_of(e["created_at"])
            for e in entries
            if e["type"] == "acknowledge_log_entry"
            and (
                self.settings.has("integration_acks")
                or (e.get("agent") or {}).get("type") == "user_reference"
            )
        ]
        return min(counted, default=None)

    def _row(self, incident: dict, entries: list[dict], _alerts: list[dict]) -> dict[str, Any]:
        created = epoch_of(incident["created_at"])
        user_acks: dict[str, float] = {}
        for e in entries:
            agent = e.get("agent") or {}
            if e["type"] == "acknowledge_log_entry" and agent.get("type") == "user_reference":
                user_acks.setdefault(agent["id"], epoch_of(e["created_at"]))
        resolves = [e for e in entries if e["type"] == "resolve_log_entry"]
        resolved = incident["status"] == "resolved" and bool(resolves)
        last_resolve = max(resolves, key=lambda e: (e["created_at"], e["id"])) if resolved else None
        resolved_at = epoch_of(last_resolve["created_at"]) if last_resolve else None
        first_ack = self._first_ack(entries)
        to_resolve = None if resolved_at is None else int(resolved_at - created)
        if (
            to_resolve is not None
            and to_resolve < 0
            and not self.settings.has("negative_durations")
        ):
            to_resolve = None
        notifications = [e for e in entries if e["type"] == "notify_log_entry"]
        if self.settings.has("email_notifications"):
            notifications = [
                e
                for e in notifications
                if ((e.get("channel") or {}).get("notification") or {}).get("type")
                != "email_notification"
            ]
        buckets = self._interruptions.get(incident["id"], {})
        escalations = sum(1 for e in entries if e["type"] == "escalate_log_entry")
        engaged = {
            user: max(0, int(resolved_at - at)) if resolved_at is not None else 0
            for user, at in user_acks.items()
        }
        row = {
            "id": incident["id"],
            "incident_number": incident["incident_number"],
            "created_at": created,
            "resolved_at": resolved_at,
            "status": incident["status"],
            "urgency": incident["urgency"],
            "description": incident["title"],
            "service": incident["service"],
            "team": (incident.get("teams") or [None])[0],
            "escalation_policy": incident.get("escalation_policy"),
            "priority": incident.get("priority"),
            "major": self._is_major(incident, user_acks),
            "auto_resolved": bool(
                last_resolve and (last_resolve.get("agent") or {}).get("type") != "user_reference"
            ),
            "seconds_to_first_ack": None if first_ack is None else int(first_ack - created),
            "seconds_to_resolve": to_resolve,
            "escalation_count": escalations,
            "timeout_escalation_count": escalations,
            "total_notifications": len(notifications),
            "business_hour_interruptions": buckets.get("business", 0),
            "off_hour_interruptions": buckets.get("off_hour", 0),
            "sleep_hour_interruptions": buckets.get("sleep", 0),
            "engaged_seconds": sum(engaged.values()),
            "acknowledged_user_ids": list(user_acks),
            "acknowledgement_count": sum(
                1 for e in entries if e["type"] == "acknowledge_log_entry"
            ),
            "assigned_user_ids": _assigned(entries),
            "resolved_by": (last_resolve or {}).get("agent"),
            "merged": _merged(incident),
        }
        row.update(self.settings.tamper.get(incident["id"], {}))
        return row

    def _is_major(self, incident: dict, user_acks: dict[str, float]) -> bool:
        """One of the two highest priorities, or acknowledged by two or more people."""
        top_two = {p["id"] for p in self.index.catalogs["priorities"][:2]}
        priority = incident.get("priority") or {}
        return priority.get("id") in top_two or len(user_acks) >= 2


def _merged(incident: dict) -> bool:
    """Resolved by a merge into another incident (as of the analytics clock)."""
    reason = incident.get("resolve_reason") or {}
    return incident["status"] == "resolved" and reason.get("type") == "merge_resolve_reason"


def _assigned(entries: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for e in entries:
        if e["type"] in ("assign_log_entry", "escalate_log_entry"):
            for assignee in e.get("assignees") or []:
                seen.setdefault(assignee["id"], None)
    return list(seen)
