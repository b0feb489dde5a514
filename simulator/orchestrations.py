"""Configuration the simulated account already has in PagerDuty, chosen so it never contradicts
the incidents served: Event Orchestration service rules and auto-pause.

The generator (``simulator/org.py``, ``lifecycle``) already honours the settings it draws
(alert grouping, acknowledgement timeouts, auto-resolve timeouts). What it does not model
would change the incident stream if it were switched on over the whole history, so it is
placed where it cannot:

* **Event Orchestration rules** are recent: a rule that suppresses or suspends an alert type
  was saved an hour after that alert type's last incident (the orchestration's
  ``updated_at``), so no incident served falls under it. It is the account of a team that has
  just acted on a noisy alert: its history still shows the noise. Three kinds, each on at
  most one service: *suppress* the alert type nobody acknowledges most, *suspend* (pause
  300 s) the alert type that resolves on its own most often, and *severity warning* on
  another one (no effect: the simulated services' urgency is constant, not severity-based,
  so that rule can be old). Every other service has an empty orchestration.
* **Auto-pause** is on for at most :data:`AUTO_PAUSE_SERVICES` services whose every
  unacknowledged resolution took longer than the timeout, which is PagerDuty's largest
  allowed timeout below that shortest resolution: no incident served would have been held
  and resolved inside the pause. (PagerDuty pauses only the alerts its model deems transient,
  so alerts that outlived it opening at once is consistent.)

Everything is a pure function of the served incidents and services (:func:`configuration`,
cached per account index).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from simulator._common import API_BASE, iso, parse_iso

AUTO_PAUSE_TIMEOUTS = (120, 180, 300, 600, 900)  # PagerDuty's allowed values
AUTO_PAUSE_SERVICES = 2
MIN_TYPE_INCIDENTS = 5
SUSPEND_SECONDS = 300
QUICK_SECONDS = 300  # "resolves on its own quickly": the transient notion of the rules
RULE_AFTER_LAST = 3600  # a rule is saved an hour after the last incident it would match
_DIGITS = re.compile(r"\d+")


@dataclass
class _AlertType:
    service_id: str
    shape: str  # the title with digit runs masked: one alert type
    titles: list[str] = field(default_factory=list)
    last_created: int = 0
    never_acked: int = 0
    quick: int = 0

    @property
    def incidents(self) -> int:
        return len(self.titles)


@dataclass(frozen=True)
class Configuration:
    """Per service id: the orchestration object and extra service settings."""

    orchestrations: dict[str, dict]
    service_settings: dict[str, dict]


_CACHE: weakref.WeakKeyDictionary[Any, Configuration] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def configuration(index: Any) -> Configuration:
    """The account's existing configuration (``index``: a :class:`simulator.index.AccountIndex`)."""
    with _LOCK:
        found = _CACHE.get(index)
        if found is None:
            found = _build(index)
            _CACHE[index] = found
        return found


def with_settings(index: Any, service: dict) -> dict:
    """``service`` (an API object) with the settings this module switches on."""
    extra = configuration(index).service_settings.get(service.get("id"))
    return dict(service, **extra) if extra else service


def _build(index: Any) -> Configuration:
    # A service without a usable id (a broken record a test serves) gets nothing.
    services = sorted(
        (s for s in index.catalogs["services"] if isinstance(s.get("id"), str)),
        key=lambda s: s["id"],
    )
    types, durations = _observe(index)
    end = max((parse_iso(s.incident["created_at"]) for s in index.incidents), default=0)
    rules = _plant_rules(types, end)
    orchestrations = {s["id"]: _orchestration(s, rules.get(s["id"], []), end) for s in services}
    settings = {
        service_id: {"auto_pause_notifications_parameters": {"enabled": True, "timeout": t}}
        for service_id, t in _auto_pause(durations, types).items()
    }
    return Configuration(orchestrations, settings)


def _observe(index: Any) -> tuple[list[_AlertType], dict[str, list[int]]]:
    """The alert types (service, masked title) and every service's unacknowledged
    resolution times."""
    by_key: dict[tuple[str, str], _AlertType] = {}
    durations: dict[str, list[int]] = defaultdict(list)
    for sim in index.incidents:
        incident = sim.incident
        service_id = incident["service"]["id"]
        title = str(incident.get("title") or "")
        key = (service_id, _DIGITS.sub("#", title))
        kind = by_key.setdefault(key, _AlertType(*key))
        created = parse_iso(incident["created_at"])
        kind.titles.append(title)
        kind.last_created = max(kind.last_created, created)
        acked = any(e["type"] == "acknowledge_log_entry" for e in sim.log_entries)
        resolved = incident.get("resolved_at")
        if not acked:
            kind.never_acked += 1
            if resolved:
                seconds = parse_iso(resolved) - created
                durations[service_id].append(seconds)
                kind.quick += seconds <= QUICK_SECONDS
    ordered = sorted(by_key.values(), key=lambda t: (t.service_id, t.shape))
    return ordered, durations


def _plant_rules(types: list[_AlertType], end: int) -> dict[str, list[tuple[dict, int]]]:
    """At most one rule of each kind, each on its own service."""
    used: set[str] = set()
    planted: dict[str, list[tuple[dict, int]]] = defaultdict(list)
    enough = [t for t in types if t.incidents >= MIN_TYPE_INCIDENTS and _constant(t.titles)]
    # Recent rules (suppress, suspend) only where an hour after the last incident is history.
    recent = [t for t in enough if t.last_created + RULE_AFTER_LAST <= end]
    choices = (
        ("suppress", recent, lambda t: (t.never_acked / t.incidents, t.incidents)),
        ("suspend", recent, lambda t: (t.quick / t.incidents, t.incidents)),
        ("severity", enough, lambda t: (t.incidents, t.never_acked)),
    )
    for action, pool, score in choices:
        free = [t for t in pool if t.service_id not in used]
        if not free:
            continue
        best = max(free, key=lambda t: (*score(t), t.shape))
        used.add(best.service_id)
        planted[best.service_id].append(_rule(action, best))
    return planted


def _rule(action: str, kind: _AlertType) -> tuple[dict, int]:
    constant = _constant(kind.titles)
    text = constant.replace("\\", "\\\\").replace("'", "\\'")
    label, actions = {
        "suppress": (f"Suppress {constant}: nobody acts on it", {"suppress": True}),
        "suspend": (
            f"Hold {constant} {SUSPEND_SECONDS} s: it clears on its own",
            {"suspend": SUSPEND_SECONDS},
        ),
        "severity": (f"{constant} is a warning", {"severity": "warning"}),
    }[action]
    rule = {
        "label": label,
        "id": f"{abs(hash_text(kind.service_id + kind.shape)) % 16**8:08x}",
        "conditions": [{"expression": f"event.summary matches part '{text}'"}],
        "actions": actions,
    }
    # A recent rule dates the orchestration's updated_at; the severity rule can be old.
    return rule, (kind.last_created + RULE_AFTER_LAST if action != "severity" else 0)


def hash_text(text: str) -> int:
    """A stable (not per-process) hash of ``text``."""
    value = 0
    for char in text.encode("utf-8"):
        value = (value * 131 + char) % (2**61 - 1)
    return value


def _constant(titles: list[str]) -> str:
    """The longest run of words every title has at the same positions (at least 8
    characters), or '': what a ``matches part`` condition of the rule looks for."""
    split = [t.split(" ") for t in titles]
    if not split:
        return ""
    width = min(len(words) for words in split)
    same = [all(words[i] == split[0][i] for words in split) for i in range(width)]
    best, start = "", None
    for i, equal in enumerate([*same, False]):
        if equal and start is None:
            start = i
        elif not equal and start is not None:
            # Without the brackets a cut leaves at the end: "(instance" reads "instance".
            run = " ".join(split[0][start:i]).strip().rstrip("([{:,;-").strip()
            best = run if len(run) > len(best) else best
            start = None
    return best if len(best) >= 8 else ""


def _orchestration(service: dict, planted: list[tuple[dict, int]], end: int) -> dict:
    rules = [rule for rule, _ in planted]
    recent = max((saved for _, saved in planted), default=0)
    created = parse_iso(service["created_at"]) if service.get("created_at") else end
    updated = recent or created
    return {
        "orchestration_path": {
            "type": "service",
            "parent": {
                "id": service["id"],
                "self": f"{API_BASE}/services/{service['id']}",
                "type": "service_reference",
            },
            "self": f"{API_BASE}/event_orchestrations/services/{service['id']}",
            "sets": [{"id": "start", "rules": rules}],
            "catch_all": {"actions": {}},
            "created_at": iso(created),
            "updated_at": iso(max(updated, created)),
            "version": f"v{hash_text(service['id']) % 10**6:06d}",
        }
    }


def _auto_pause(durations: dict[str, list[int]], types: list[_AlertType]) -> dict[str, int]:
    """Services (at most AUTO_PAUSE_SERVICES) whose shortest unacknowledged resolution
    exceeds PagerDuty's shortest auto-pause timeout; the timeout: the largest allowed one
    below it. Most quick unacknowledged incidents first (where auto-pause is the advice)."""
    quick: dict[str, int] = defaultdict(int)
    for kind in types:
        quick[kind.service_id] += kind.quick
    eligible = []
    for service_id, seconds in durations.items():
        shortest = min(seconds)
        allowed = [t for t in AUTO_PAUSE_TIMEOUTS if t < shortest]
        if allowed and quick[service_id] > 0:
            eligible.append((-quick[service_id], service_id, allowed[-1]))
    return {
        service_id: timeout for _, service_id, timeout in sorted(eligible)[:AUTO_PAUSE_SERVICES]
    }
