"""A PagerDuty webhooks v3 delivery: checked, and reduced to what the spool keeps.

A v3 delivery is ``{"event": {...}}`` with the event's ``id`` (PagerDuty's delivery key, the
same on every retry), ``event_type`` (``incident.acknowledged``, ``service.updated``,
``pagey.ping``, ...), ``occurred_at`` and ``data``, the affected object (an incident, or a note,
responder, status update ... that references one). The body is a summary: the receiver keeps it
as received and the apply step reads the incident's real state from the REST API.

Anything else is refused with a one-line reason (HTTP 400). An event of a type pagerlens does
not know is *not* refused: PagerDuty adds types, so it is stored and reported (see
:data:`KNOWN_EVENT_TYPES`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The incident event types of a v3 subscription (PagerDuty's webhook docs), which the apply
# step turns into a refresh of the incident; any other incident.* type is applied too but
# reported as unknown.
INCIDENT_EVENT_TYPES = frozenset(
    {
        "incident.acknowledged",
        "incident.annotated",
        "incident.conference_bridge.updated",
        "incident.custom_field_values.updated",
        "incident.delegated",
        "incident.escalated",
        "incident.incident_type.changed",
        "incident.priority_updated",
        "incident.reassigned",
        "incident.reopened",
        "incident.resolved",
        "incident.responder.added",
        "incident.responder.replied",
        "incident.role.assigned",
        "incident.status_update_published",
        "incident.triggered",
        "incident.unacknowledged",
        "incident.workflow.completed",
        "incident.workflow.started",
    }
)
# Known, stored, and nothing to apply: the subscription's test delivery and service changes
# (the nightly sync re-reads every service).
NON_INCIDENT_EVENT_TYPES = frozenset(
    {
        "pagey.ping",
        "service.created",
        "service.updated",
        "service.deleted",
        "service.custom_field_values.updated",
    }
)
KNOWN_EVENT_TYPES = INCIDENT_EVENT_TYPES | NON_INCIDENT_EVENT_TYPES
MAX_ID_LENGTH = 200


class EventError(ValueError):
    """The body is not a v3 webhook event; the message is the reason sent back (HTTP 400)."""


@dataclass(frozen=True)
class WebhookEvent:
    """What the spool keeps of one delivery, beside its raw body."""

    event_id: str
    event_type: str
    occurred_at: str
    incident_id: str | None

    @property
    def known(self) -> bool:
        return self.event_type in KNOWN_EVENT_TYPES


def parse_event(body: bytes) -> WebhookEvent:
    """Check a delivery's body and return its event; :class:`EventError` says what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise EventError("body is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("event"), dict):
        raise EventError('not a v3 webhook: no "event" object')
    event = document["event"]
    event_id = _text(event, "id")
    event_type = _text(event, "event_type")
    occurred_at = _text(event, "occurred_at")
    try:
        moment = datetime.fromisoformat(occurred_at)
    except ValueError:
        raise EventError("event.occurred_at is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise EventError("event.occurred_at has no time zone")
    data = event.get("data")
    if not isinstance(data, dict):
        raise EventError("event.data is missing or not an object")
    incident_id = incident_of(data) if event_type.startswith("incident.") else None
    if event_type.startswith("incident.") and incident_id is None:
        raise EventError(f"event.data of an {event_type} event names no incident")
    return WebhookEvent(event_id, event_type, occurred_at, incident_id)


def incident_of(data: dict[str, Any]) -> str | None:
    """The id of the incident an event's ``data`` is about, if any.

    ``data`` is the incident itself (``type: incident``), or an object with an ``incident``
    reference (note, responder, status update, conference bridge, field values, task,
    workflow instance, action invocation), or role assignments that each reference it.
    """
    if data.get("type") == "incident":
        return _id_or_none(data.get("id"))
    reference = data.get("incident")
    if isinstance(reference, dict):
        return _id_or_none(reference.get("id"))
    assignments = data.get("incident_role_assignments")
    if isinstance(assignments, list):
        for assignment in assignments:
            if isinstance(assignment, dict) and isinstance(assignment.get("incident"), dict):
                return _id_or_none(assignment["incident"].get("id"))
    return None


def _text(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"event.{key} is missing or not a string")
    if len(value) > MAX_ID_LENGTH:
        raise EventError(f"event.{key} is longer than {MAX_ID_LENGTH} characters")
    return value


def _id_or_none(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH:
        return value
    return None
