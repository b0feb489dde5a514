"""Recommendations as configuration an owner can paste: **artifacts**, each for one place.

An artifact is a dict with ``target`` and ``where`` (one line: where to paste it, what it does)
and ``text`` (what to paste), plus per target:

* ``pagerduty_api``: ``method``, ``path`` and ``body``, a REST API v2 request body with the
  field names of PagerDuty's OpenAPI spec (validated against it in tests);
* ``alertmanager``: ``part`` (``route`` or ``inhibit_rules``), ``fragment`` (a child route, or
  one inhibit rule) and ``receivers`` (the receivers it names); ``text`` shows the fragment
  under its top-level key. :func:`alertmanager_config` wraps a team's fragments in a complete
  configuration (what ``amtool check-config`` validates in tests).

Every value from alert text goes through ``json.dumps`` or ``yaml.safe_dump``, never string
formatting, so quotes, newlines, ``{{``, ``---`` or ``!tags`` stay data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pandas as pd
import yaml

# Alertmanager's summary starts with "[FIRING:n] <alertname> ..." (its default title and the
# common "[{{ .Status | toUpper }}:...] ..." ones); the alert name is what a route matches.
_ALERTNAME = re.compile(r"\[FIRING:<\*>\]\s*([A-Za-z_][A-Za-z0-9_]*)")
# The label a storm's root and its dependents share for an inhibit rule: Alertmanager's
# default grouping in Kubernetes setups (alertname, namespace); summaries do not name labels.
INHIBIT_EQUAL = ["namespace"]
# Maintenance windows are one-off in PagerDuty: this many weekly occurrences are emitted.
MAINTENANCE_OCCURRENCES = 4
QUIET_RECEIVER = "pagerlens-no-page"


def alertname(template: object) -> str | None:
    """The Alertmanager alert name of a template, or None if it is not an Alertmanager one."""
    match = _ALERTNAME.match(str(template or ""))
    return match.group(1) if match else None


def pagerduty(method: str, path: str, body: dict, where: str) -> dict:
    return {
        "target": "pagerduty_api",
        "where": _one_line(where),
        "method": method,
        "path": path,
        "body": body,
        "text": json.dumps(body, indent=2, ensure_ascii=False),
    }


def alertmanager(part: str, fragment: dict, where: str, receivers: list[str]) -> dict:
    shown = {"route": {"routes": [fragment]}} if part == "route" else {part: [fragment]}
    return {
        "target": "alertmanager",
        "where": _one_line(where),
        "part": part,
        "fragment": fragment,
        "receivers": receivers,
        "text": _yaml(shown),
    }


def _yaml(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _matcher(name: str, values: list[str]) -> str:
    """An Alertmanager matcher on one label: equality for one value, else an anchored regex
    alternation; the value is a double-quoted string with backslash escapes."""
    if len(values) == 1:
        return f"{name}={json.dumps(values[0], ensure_ascii=False)}"
    pattern = "|".join(re.escape(v) for v in values)
    return f"{name}=~{json.dumps(pattern, ensure_ascii=False)}"


def receiver_name(team: object) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(team or "team").lower()).strip("-") or "team"
    return f"pagerduty-{slug}"


def render(artifacts: list[dict]) -> str:
    """The ``config_snippet`` column: every artifact, each under a one-line comment header."""
    blocks = []
    for artifact in artifacts:
        if artifact["target"] == "pagerduty_api":
            head = f"# PagerDuty API {artifact['method']} {artifact['path']}: {artifact['where']}"
        else:
            head = f"# Alertmanager {artifact['part']}: {artifact['where']}"
        blocks.append(head + "\n" + artifact["text"].rstrip("\n") + "\n")
    return "".join(blocks)


def alertmanager_config(artifacts: list[dict]) -> str:
    """A complete Alertmanager configuration holding the fragments: a root route to a
    ``default`` receiver with the routes under it, the inhibit rules, and every receiver the
    fragments name (without integrations: add yours, or diff the routes into your file)."""
    fragments = [a for a in artifacts if a["target"] == "alertmanager"]
    names = sorted({r for a in fragments for r in a["receivers"]} - {"default"})
    config: dict = {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "default",
            "routes": [a["fragment"] for a in fragments if a["part"] == "route"],
        },
        "receivers": [{"name": "default"}, *({"name": n} for n in names)],
    }
    for part in ("inhibit_rules", "time_intervals"):
        found = [a["fragment"] for a in fragments if a["part"] == part]
        if found:
            config[part] = found
    return _yaml(config)


def service_update(part: pd.DataFrame, fields: dict, where: str) -> dict:
    """PUT /services/{id}: the spec's Service requires ``type`` and ``escalation_policy``, so
    the service's current escalation policy is sent back unchanged."""
    first = part.iloc[0]
    service: dict = {"type": "service"}
    policy = first.get("escalation_policy_id")
    if isinstance(policy, str) and policy:
        service["escalation_policy"] = {"id": policy, "type": "escalation_policy_reference"}
    return pagerduty(
        "PUT", f"/services/{first['service_id']}", {"service": service | fields}, where
    )


def pcl_string(text: str) -> str:
    """A PCL string literal (Event Orchestration conditions): single quotes, backslash escapes."""
    flat = _one_line(text)
    return "'" + flat.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stop_paging_artifacts(part: pd.DataFrame, constant: str, title: str, team: object) -> list:
    """Low urgency through the service's Event Orchestration (severity ``info`` on the alert,
    with a severity-based urgency rule), and an Alertmanager route to a receiver that pages
    nobody when the alerts come from Alertmanager."""
    first = part.iloc[0]
    service_id = str(first["service_id"])
    artifacts = [
        orchestration_rule(
            service_id,
            title,
            [f"event.summary matches part {pcl_string(constant)}"],
            {"severity": "info"},
            "lower these alerts to severity info.",
        ),
        service_update(
            part,
            {"incident_urgency_rule": {"type": "constant", "urgency": "severity_based"}},
            "Service settings: urgency from severity, so info alerts open low-urgency "
            "incidents that do not page.",
        ),
    ]
    name = alertname(first["template"])
    if name:
        route = {"receiver": QUIET_RECEIVER, "matchers": [_matcher("alertname", [name])]}
        artifacts.append(
            alertmanager(
                "route",
                route,
                f"Alertmanager route, first under route.routes: send {name} to a receiver "
                "that does not page (give it your chat or e-mail integration).",
                [QUIET_RECEIVER],
            )
        )
    return artifacts


# PCL's day names, Monday first (Event Orchestration's ``now in Mon,Tue 09:00:00 to ...``).
PCL_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def orchestration_rule(
    service_id: str, title: str, conditions: list[str], actions: dict, what: str
) -> dict:
    """A PUT of the service's Event Orchestration holding one rule: ``actions`` when any of
    the PCL ``conditions`` holds; ``what`` says what it does."""
    rule = {
        "label": _one_line(f"pagerlens: {title}")[:250],
        "conditions": [{"expression": c} for c in conditions],
        "actions": actions,
    }
    body = {
        "orchestration_path": {
            "sets": [{"id": "start", "rules": [rule]}],
            "catch_all": {"actions": {}},
        }
    }
    return pagerduty(
        "PUT",
        f"/event_orchestrations/services/{service_id}",
        body,
        f"Event Orchestration of the service: {what} A PUT replaces the whole orchestration: "
        "add this rule to the sets of your GET.",
    )


def _day_pieces(day: int, minute: int, minutes: int) -> list[tuple[int, int, int]]:
    """A weekly window (``day``: 0 = Monday, from ``minute`` after midnight for ``minutes``)
    as (day, first minute, end minute) per day it touches: one past midnight continues the
    next day."""
    pieces, left, start = [], minutes, minute
    while left > 0:
        span = min(left, 1440 - start)
        pieces.append((day % 7, start, start + span))
        left, start, day = left - span, 0, day + 1
    return pieces


def window_suppress_artifact(
    service_id: str, constant: str, title: str, day: int, minute: int, minutes: int, zone: str
) -> dict:
    """The weekly window as a rule of the service's Event Orchestration: the alert type's
    events are suppressed while PCL's ``now in`` holds (``day``: 0 = Monday, from ``minute``
    after midnight for ``minutes``, in ``zone``), every week, and the service's other alerts
    still page. A window past midnight is one condition per day (a rule applies when any of
    its conditions holds)."""
    match = f"event.summary matches part {pcl_string(constant)}"
    conditions = [
        f"{match} and now in {PCL_DAYS[weekday]} {start // 60:02d}:{start % 60:02d}:00 to "
        + ("23:59:59" if end == 1440 else f"{end // 60:02d}:{end % 60:02d}:00")
        + f" {zone}"
        for weekday, start, end in _day_pieces(day, minute, minutes)
    ]
    return orchestration_rule(
        service_id,
        title,
        conditions,
        {"suppress": True},
        "suppress this alert during its weekly window, every week; the service's other alerts "
        "still page.",
    )


def maintenance_starts(
    after: pd.Timestamp, day: int, minute: int, minutes: int, zone: str, count: int
) -> list[tuple[str, str]]:
    """The next ``count`` weekly windows after ``after``: ``day`` (0 = Monday) at ``minute``
    of the day for ``minutes``, on the wall clock of ``zone`` (so 02:00 stays 02:00 across a
    DST change), as ISO 8601 instants with their offset."""
    tz = ZoneInfo(zone)
    local = after.tz_convert(zone)
    monday = (local - pd.Timedelta(days=local.day_of_week)).date()
    windows: list[tuple[str, str]] = []
    week = 0
    while len(windows) < count:
        date = monday + dt.timedelta(days=day + 7 * week)
        start = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=minute)
        end = start + dt.timedelta(minutes=minutes)
        start, end = start.replace(tzinfo=tz), end.replace(tzinfo=tz)
        if start > after.to_pydatetime():
            windows.append((start.isoformat(), end.isoformat()))
        week += 1
    return windows


def mute_artifacts(
    template: object, day: int, minute: int, minutes: int, zone: str, team: object
) -> list[dict]:
    """For Alertmanager alerts, the same weekly window as a recurring ``time_intervals`` entry
    (in the account's zone) muted on a route for the alert."""
    name = alertname(template)
    if not name:
        return []
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    interval = f"pagerlens-{name}-{days[day % 7][:3]}-{minute:04d}".lower()
    periods = [
        {
            "weekdays": [days[weekday]],
            "times": [
                {
                    "start_time": f"{start // 60:02d}:{start % 60:02d}",
                    "end_time": f"{end // 60:02d}:{end % 60:02d}",
                }
            ],
            "location": zone,
        }
        for weekday, start, end in _day_pieces(day, minute, minutes)
    ]
    receiver = receiver_name(team)
    return [
        alertmanager(
            "time_intervals",
            {"name": interval, "time_intervals": periods},
            f"Alertmanager time_intervals (top level): the weekly window of {name}.",
            [],
        ),
        alertmanager(
            "route",
            {
                "receiver": receiver,
                "matchers": [_matcher("alertname", [name])],
                "mute_time_intervals": [interval],
            },
            f"Alertmanager route, under route.routes before the route of {name}: no "
            "notification during the weekly window.",
            [receiver],
        ),
    ]


def maintenance_artifacts(
    service_id: str, windows: list[tuple[str, str]], rule: str, alert: str
) -> list[dict]:
    """One POST /maintenance_windows per weekly occurrence (PagerDuty windows are one-off)."""
    return [
        pagerduty(
            "POST",
            "/maintenance_windows",
            {
                "maintenance_window": {
                    "type": "maintenance_window",
                    "start_time": start,
                    "end_time": end,
                    "description": _one_line(f"pagerlens: {rule}, for {alert}")[:250],
                    "services": [{"id": service_id, "type": "service_reference"}],
                }
            },
            f"Maintenance window {n} of {len(windows)} ({rule}), instead of the rule above: "
            "the whole service, every alert of it, opens no incidents during it.",
        )
        for n, (start, end) in enumerate(windows, start=1)
    ]


def group_artifacts(
    group: dict, services: list[str], window: int, team: object, root_template: object
) -> list[dict]:
    """An alert grouping setting over the member services; for Alertmanager alerts, a route
    that puts the member alerts in one notification group and, when one alert type fires
    first (the storm's root), an inhibit rule that mutes the others while it fires."""
    artifacts = [
        pagerduty(
            "POST",
            "/alert_grouping_settings",
            {
                "alert_grouping_setting": {
                    "name": f"pagerlens group {group['group_id']}",
                    "description": _one_line(" | ".join(group["templates"]))[:250],
                    "type": "intelligent",
                    "config": {"time_window": window},
                    "services": [{"id": s, "type": "service_reference"} for s in services],
                }
            },
            "Alert grouping setting: alerts of these services within the window join one incident.",
        )
    ]
    names = sorted({n for t in group["templates"] if (n := alertname(t))})
    if not names:
        return artifacts
    receiver = receiver_name(team)
    route = {
        "receiver": receiver,
        "matchers": [_matcher("alertname", names)],
        "group_by": [],
        "group_wait": "30s",
        "group_interval": f"{max(1, window // 60)}m",
    }
    artifacts.append(
        alertmanager(
            "route",
            route,
            "Alertmanager route, under route.routes before the routes of these alerts: one "
            "notification (one PagerDuty alert) for the storm; add the labels that separate "
            "independent storms to group_by.",
            [receiver],
        )
    )
    root = alertname(root_template)
    dependents = [n for n in names if n != root]
    if root and dependents:
        inhibit = {
            "source_matchers": [_matcher("alertname", [root])],
            "target_matchers": [_matcher("alertname", dependents)],
            "equal": list(INHIBIT_EQUAL),
        }
        artifacts.append(
            alertmanager(
                "inhibit_rules",
                inhibit,
                f"Alertmanager inhibit_rules: while {root} (fires first) is firing, mute the "
                f"others with the same {', '.join(INHIBIT_EQUAL)}.",
                [],
            )
        )
    return artifacts
