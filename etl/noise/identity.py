"""Alert identity from the structured fields an integration sends (issue 13, part 2).

Monitoring tools put the identity of the rule that fired into the event's custom details:
Alertmanager and Grafana the alert's labels, Datadog the monitor id, CloudWatch the alarm name,
Uptime Robot the monitor id. ``recognise(details)`` reads them from an alert's
``body.details`` (= the Events API v2 ``payload.custom_details``; also the trigger log entry's
``channel.details``) and returns an :class:`Identity`, or None when the body is none of the
known shapes (the alert type then comes from the mined text template).

An identity key names the *rule*, never one firing: it leaves out timestamps, values,
fingerprints, dedup keys and the labels that name one target (instance, pod, host, device ...).
For label-based sources it is the alert name plus the labels of ``STABLE_LABELS`` present on
every alert of the notification (docs/grouping.md, "Structured identity", says why those).

Every recogniser takes any JSON value and returns None rather than raising: a malformed body
falls back to text. Keys and fields are plain strings taken from the payload, never rendered
here; whoever renders them escapes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Labels that are the same on every firing of one rule for one service: the rule's name and
# severity, and the labels that say whose workload it is. Target labels (instance, pod, host,
# node, container, device, mountpoint, ...) and per-firing annotations are left out.
STABLE_LABELS = ("alertname", "severity", "namespace", "job", "service", "grafana_folder")

# The labels read at all (the rest of an alert's labels never reach a key): the stable ones
# and Grafana's rule UID label.
_READ_LABELS = frozenset(STABLE_LABELS) | {"__alert_rule_uid__"}

# Longest identity key kept (a label value can be arbitrarily long); longer keys are cut.
MAX_KEY_CHARS = 512

_GRAFANA_RULE_URL = re.compile(r"/alerting/grafana/([A-Za-z0-9_-]+)/view")
_GRAFANA_SOURCE_LINE = re.compile(r"^Source: \S*/alerting/grafana/([A-Za-z0-9_-]+)/view", re.M)
_TEXT_LABEL = re.compile(r"^ - ([^=\n]+?) = (.*)$")


@dataclass(frozen=True)
class Identity:
    """The structured identity of an alert: its integration, a stable key, the fields used."""

    source: str  # alertmanager | grafana | datadog | cloudwatch | uptimerobot
    key: str
    fields: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def type_text(self) -> str:
        """The text an alert type id is derived from (``<source>|<key>``)."""
        return f"{self.source}|{self.key}"


def recognise(details: object) -> Identity | None:
    """The identity of an alert from its custom details, or None (then text decides).

    ``details`` may be the details object, its JSON text, a PagerDuty alert ``body``
    (``details``/``cef_details.details``) or a whole Events API v2 event
    (``payload.custom_details``).
    """
    value = _unwrap(_parsed(details))
    if not isinstance(value, dict):
        return None
    for recogniser in RECOGNISERS:
        try:
            found = recogniser(value)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            found = None
        if found is not None and found.key:
            return found
    return None


def _parsed(value: object) -> object:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value


def _unwrap(value: object) -> object:
    """The custom details inside an alert body or an Events API v2 event."""
    for _ in range(3):
        if not isinstance(value, dict):
            return value
        if value.get("type") == "alert_body":
            inner = value.get("details")
            if not isinstance(inner, dict):
                cef = value.get("cef_details")
                inner = cef.get("details") if isinstance(cef, dict) else None
            value = inner
        elif isinstance(value.get("payload"), dict) and "event_action" in value:
            value = value["payload"].get("custom_details")
        else:
            return value
    return value


def _text(value: object) -> str:
    """A scalar as text ('' for anything else); numbers as the JSON would print them."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    return ""


def _key(parts: list[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in parts if v)[:MAX_KEY_CHARS]


# -- Alertmanager and Grafana: labels ---------------------------------------------------------


def _stable_labels(alerts: list[dict[str, str]]) -> list[tuple[str, str]]:
    """The STABLE_LABELS every alert of the notification has with one value; the alert
    names of the notification (a group may hold several rules) joined with '|'."""
    if len(alerts) == 1:  # the common case: one alert per notification
        return [(name, alerts[0].get(name, "")) for name in STABLE_LABELS]
    names = sorted({a.get("alertname", "") for a in alerts} - {""})
    parts = [("alertname", "|".join(names))]
    for name in STABLE_LABELS[1:]:
        values = {a.get(name, "") for a in alerts}
        if len(values) == 1:
            parts.append((name, values.pop()))
    return parts


def _label_alerts(items: object) -> list[dict[str, str]]:
    """The labels of each alert object of a list (Alertmanager v0.30+ ``firing``, webhook
    ``alerts``), as text; alerts without labels are skipped."""
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        labels = item.get("labels") if isinstance(item, dict) else None
        if isinstance(labels, dict):
            out.append({k: _text(v) for k, v in labels.items() if k in _READ_LABELS})
    return out


def _text_alerts(text: str) -> list[dict[str, str]]:
    """The labels of the text alert list (``__text_alert_list``: 'Labels:' then ' - k = v'
    lines per alert, as Alertmanager before v0.30 and Grafana send ``firing``)."""
    alerts: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if line.strip() == "Labels:":
            current = {}
            alerts.append(current)
        elif current is not None and (m := _TEXT_LABEL.match(line)):
            if (name := m.group(1).strip()) in _READ_LABELS:
                current[name] = m.group(2).strip()
        elif line and not line.startswith(" "):
            current = None  # Annotations:, Source:, Silence: ... end the label block
    return [a for a in alerts if a]


def _is_grafana(details: dict, alerts: list[dict[str, str]], text: str = "") -> bool:
    if any("grafana_folder" in a for a in alerts) or "orgId" in details:
        return True
    return "\nSilence: " in text or text.startswith("\nValue: ")


def _grafana_rule_uid(details: dict, text: str = "") -> str:
    """The rule UID of a Grafana alert: from the text list's first ``Source:`` line, or a
    webhook alert's ``__alert_rule_uid__`` label or generator URL."""
    if text and (match := _GRAFANA_SOURCE_LINE.search(text)):
        return match.group(1)
    for item in details.get("alerts") or ():
        if not isinstance(item, dict):
            continue
        labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
        uid = _text(labels.get("__alert_rule_uid__"))
        match = _GRAFANA_RULE_URL.search(_text(item.get("generatorURL")))
        if uid or match:
            return uid or match.group(1)
    return ""


def _from_labels(details: dict, alerts: list[dict[str, str]], text: str = "") -> Identity | None:
    if not alerts or not any(a.get("alertname") for a in alerts):
        return None
    parts = _stable_labels(alerts)
    fields = {k: v for k, v in parts if v}
    if _is_grafana(details, alerts, text):
        uid = _grafana_rule_uid(details, text)
        if uid:
            fields["rule_uid"] = uid
            parts = [("rule_uid", uid)] + [p for p in parts if p[0] != "alertname"]
        return Identity("grafana", _key(parts), fields)
    return Identity("alertmanager", _key(parts), fields)


def alertmanager_or_grafana(details: dict) -> Identity | None:
    """Alertmanager's PagerDuty receiver (``firing``: a list of alerts since v0.30, the text
    list before), Grafana's PagerDuty contact point (the text list) and either tool's webhook
    body (``alerts``)."""
    firing = details.get("firing")
    if isinstance(firing, list):
        alerts = _label_alerts(firing) or _label_alerts(details.get("resolved"))
        return _from_labels(details, alerts)
    if isinstance(firing, str):
        text = firing or _text(details.get("resolved"))
        return _from_labels(details, _text_alerts(text), text)
    if "alerts" in details and ("groupKey" in details or "receiver" in details):
        return _from_labels(details, _label_alerts(details.get("alerts")))
    return None


# -- Datadog, CloudWatch, Uptime Robot --------------------------------------------------------


def datadog(details: dict) -> Identity | None:
    """Datadog monitor notifications: the monitor id (``$ALERT_ID``) names the monitor; a
    multi-alert monitor's per-host or per-tag firings share it."""
    monitor = _text(details.get("monitor_id") or details.get("alert_id"))
    marked = any(k in details for k in ("alert_transition", "event_type", "monitor_name", "org_id"))
    if not monitor.isdigit() or not marked:
        return None
    fields = {"monitor_id": monitor}
    for name in ("monitor_name", "alert_title", "event_type"):
        if _text(details.get(name)):
            fields[name] = _text(details.get(name))
    return Identity("datadog", _key([("monitor_id", monitor)]), fields)


def _sns_alarm(details: dict) -> dict | None:
    """The CloudWatch alarm message: the details themselves, or the SNS notification's
    ``Message`` (a JSON string, as SNS delivers it)."""
    if "AlarmName" in details:
        return details
    if details.get("Type") == "Notification" and "Message" in details:
        message = _parsed(details["Message"])
        if isinstance(message, dict) and "AlarmName" in message:
            return message
    return None


def cloudwatch(details: dict) -> Identity | None:
    """A CloudWatch alarm via SNS: the alarm (account, region, name) is the identity; the
    trigger's namespace, metric and dimensions are kept as fields, not in the key (one alarm
    has one trigger)."""
    alarm = _sns_alarm(details)
    if alarm is None or not _text(alarm.get("AlarmName")):
        return None
    name = _text(alarm["AlarmName"])
    parts = [
        ("account", _text(alarm.get("AWSAccountId"))),
        ("region", _text(alarm.get("Region"))),
        ("alarm", name),
    ]
    fields = {k: v for k, v in parts if v}
    trigger = alarm.get("Trigger")
    if isinstance(trigger, dict):
        for source, target in (("Namespace", "namespace"), ("MetricName", "metric")):
            if _text(trigger.get(source)):
                fields[target] = _text(trigger[source])
        dimensions = trigger.get("Dimensions")
        if isinstance(dimensions, list):
            fields["dimensions"] = ",".join(
                f"{_text(d.get('name'))}={_text(d.get('value'))}"
                for d in dimensions
                if isinstance(d, dict)
            )
    return Identity("cloudwatch", _key(parts), fields)


def uptimerobot(details: dict) -> Identity | None:
    """Uptime Robot webhook alert contacts: the monitor id and the alert type (down, SSL
    expiry ...: different problems of one monitor)."""
    monitor = _text(details.get("monitorID"))
    if not monitor or not ("monitorURL" in details or "monitorFriendlyName" in details):
        return None
    kind = _text(details.get("alertTypeFriendlyName")) or _text(details.get("alertType"))
    fields = {"monitor_id": monitor, "alert_type": kind}
    for source, target in (("monitorFriendlyName", "monitor"), ("monitorURL", "url")):
        if _text(details.get(source)):
            fields[target] = _text(details[source])
    return Identity("uptimerobot", _key([("monitor_id", monitor), ("alert_type", kind)]), fields)


RECOGNISERS: tuple[Callable[[dict], Identity | None], ...] = (
    alertmanager_or_grafana,
    datadog,
    cloudwatch,
    uptimerobot,
)
