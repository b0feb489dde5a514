"""The account's existing PagerDuty configuration, as the sync stored it: what each
recommendation rule checks before proposing a change (docs/grouping.md "Already configured").

Read from ``stg_service_settings``, ``stg_maintenance_windows``,
``stg_service_orchestration_rules``, ``service_setting_flags`` and ``skipped_resources``; a
table absent from an older warehouse reads as empty (nothing known to be on), and maintenance
windows the sync could not read are *unknown*, said so in evidence.

Event Orchestration rules are matched on the alert text: a rule covers an alert type when
every incident title of the type satisfies one of its conditions. Only conditions on
``event.summary`` with ``matches``, ``matches part`` or ``matches regex`` are understood
(compared case-insensitively); a rule with other conditions is never taken as covering, so
pagerlens may propose what it already does, never the reverse. A rule without conditions
matches every event; the catch-all covers what no other rule of the service matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from etl.warehouse import table_exists

WINDOWS_UNKNOWN = (
    "unknown: the last sync could not read /maintenance_windows ({reason}), so a window "
    "already booked in PagerDuty cannot be seen"
)
WINDOWS_NOT_SYNCED = "unknown: this warehouse holds no synced maintenance windows table"


@dataclass(frozen=True)
class ExistingConfig:
    """Per service: its settings (``stg_service_settings`` rows), its booked maintenance
    windows (start, end) and the settings that distort its metrics; ``windows_unknown``: why
    an empty list of windows does not mean none (None when it does)."""

    settings: dict[str, dict] = field(default_factory=dict)
    windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = field(default_factory=dict)
    distortions: dict[str, dict] = field(default_factory=dict)
    windows_unknown: str | None = None
    orchestration_rules: dict[str, list[dict]] = field(default_factory=dict)
    # The event summary of each incident of a service with rules: what the rules read.
    summaries: dict[str, str] = field(default_factory=dict)

    def orchestrated(self, service_id: object, titles: list[str], kind: str) -> dict | None:
        """The service's Event Orchestration rule that already does what a ``kind``
        recommendation would for alerts with these ``titles`` (suppress or drop for any
        kind; suspend for pause_transient; severity info/warning for stop_paging when the
        urgency follows severity), or None."""
        rules = [r for r in self.orchestration_rules.get(str(service_id), []) if not r["disabled"]]
        if not titles or not rules:
            return None
        severity_urgency = (self.settings.get(str(service_id)) or {}).get(
            "constant_urgency"
        ) == "severity_based"
        for rule in rules:
            if rule["rule_id"] == "catch_all":
                others = [r for r in rules if r["rule_id"] != "catch_all"]
                applies = not any(_any_title_matches(r, titles) for r in others)
            else:
                applies = all(_matches(rule, title) for title in titles)
            if applies and _does(rule, kind, severity_urgency):
                return rule
        return None

    def auto_pause(self, service_id: object) -> int | None:
        """The auto-pause timeout (seconds, 0 if PagerDuty's default) when it is on."""
        row = self.settings.get(str(service_id))
        if not row or not row.get("auto_pause_enabled"):
            return None
        timeout = row.get("auto_pause_timeout_seconds")
        return int(timeout) if _known(timeout) else 0

    def grouping(self, service_id: object) -> str | None:
        """The service's alert grouping (type and window) when it has one, else None."""
        row = self.settings.get(str(service_id))
        kind = row.get("alert_grouping_type") if row else None
        if not _known(kind):
            return None
        window = row.get("alert_grouping_window_seconds")
        if kind == "alert_grouping_setting_reference":
            return "an Alert Grouping Setting"
        return f"{kind} grouping" + (f" ({int(window)} s window)" if _known(window) else "")

    def low_urgency(self, service_id: object) -> bool:
        row = self.settings.get(str(service_id)) or {}
        return row.get("urgency_rule_type") == "constant" and row.get("constant_urgency") == "low"

    def booked(self, service_id: object, start: str, end: str) -> bool:
        """Whether the proposed window [start, end) overlaps a window already booked."""
        begin, finish = pd.Timestamp(start), pd.Timestamp(end)
        return any(b < finish and begin < e for b, e in self.windows.get(str(service_id), []))

    def evidence(self, service_ids: list[object]) -> dict:
        """The settings of these services that distort the metrics, for the evidence."""
        found = {
            str(s): self.distortions[str(s)] for s in service_ids if str(s) in self.distortions
        }
        return {"settings_distorting_metrics": found} if found else {}


_CONDITION = re.compile(
    r"^\s*event\.summary\s+matches(?:\s+(part|regex))?\s+'((?:[^'\\]|\\.)*)'\s*$",
    re.IGNORECASE,
)


def _condition_matches(expression: str, title: str) -> bool:
    found = _CONDITION.match(expression or "")
    if not found:
        return False  # not understood: never taken as covering (see the module docstring)
    mode, literal = (found.group(1) or "").lower(), re.sub(r"\\(.)", r"\1", found.group(2))
    if mode == "regex":
        try:
            return re.search(literal, title) is not None
        except re.error:
            return False
    if mode == "part":
        return literal.lower() in title.lower()
    return literal.lower() == title.lower()


def _matches(rule: dict, title: str) -> bool:
    conditions = list(rule.get("conditions") or [])
    return not conditions or any(_condition_matches(c, title) for c in conditions)


def _any_title_matches(rule: dict, titles: list[str]) -> bool:
    """Whether the rule may take one of these events (so the catch-all does not see it): a
    condition pagerlens cannot read counts as a possible match."""
    conditions = list(rule.get("conditions") or [])
    unread = any(not _CONDITION.match(c or "") for c in conditions)
    return unread or any(_matches(rule, t) for t in titles)


def _does(rule: dict, kind: str, severity_urgency: bool) -> bool:
    if rule.get("suppress") or rule.get("drop_event"):
        return kind in ("stop_paging", "pause_transient", "maintenance_window")
    if kind == "pause_transient":
        return _known(rule.get("suspend_seconds"))
    if kind == "stop_paging":
        return severity_urgency and rule.get("severity") in ("info", "warning")
    return False


def rule_text(rule: dict) -> str:
    """The rule as evidence: what it does, its label, id and condition."""
    if rule.get("suppress") or rule.get("drop_event"):
        action = "suppresses" if rule.get("suppress") else "drops"
    elif _known(rule.get("suspend_seconds")):
        action = f"suspends for {int(rule['suspend_seconds'])} s"
    else:
        action = f"sets severity {rule.get('severity')} on"
    where = (
        "events no other rule matches"
        if rule["rule_id"] == "catch_all"
        else "events matching " + (" or ".join(rule.get("conditions") or []) or "every event")
    )
    return f"Event Orchestration rule {rule.get('label')!r} ({rule['rule_id']}) {action} {where}"


def _known(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_existing(con: duckdb.DuckDBPyConnection) -> ExistingConfig:
    """The existing configuration from the build's tables (empty where a table is absent)."""
    settings, windows, distortions = {}, {}, {}
    if table_exists(con, "stg_service_settings"):
        settings = {
            str(r["service_id"]): r for r in _rows(con, "select * from stg_service_settings")
        }
    unknown = None if table_exists(con, "stg_maintenance_windows") else WINDOWS_NOT_SYNCED
    if unknown is None:
        for r in _rows(
            con,
            "select service_id, start_at, end_at from stg_maintenance_windows "
            "where start_at is not null and end_at is not null order by start_at",
        ):
            windows.setdefault(str(r["service_id"]), []).append(
                (pd.Timestamp(r["start_at"]), pd.Timestamp(r["end_at"]))
            )
    if table_exists(con, "skipped_resources"):
        skipped = _rows(
            con,
            "select reason from skipped_resources where resource = 'maintenance_windows'",
        )
        if skipped:
            unknown = WINDOWS_UNKNOWN.format(reason=skipped[0]["reason"] or "skipped")
    if table_exists(con, "service_setting_flags"):
        for r in _rows(con, "select * from service_setting_flags where distortion is not null"):
            distortions[str(r["service_id"])] = {
                key: bool(r[key]) for key in DISTORTION_FLAGS if key in r
            } | {"distortion": r["distortion"]}
    rules = _orchestration_rules(con)
    return ExistingConfig(
        settings, windows, distortions, unknown, rules, _summaries(con, list(rules))
    )


DISTORTION_FLAGS = (
    "auto_resolve_distorts_mttr",
    "ack_timeout_retriggers",
    "orchestration_hides_incidents",
)


def _summaries(con: duckdb.DuckDBPyConnection, service_ids: list[str]) -> dict[str, str]:
    if not service_ids or not table_exists(con, "noise_incidents"):
        return {}
    rows = con.execute(
        "select incident_id, summary from noise_incidents where list_contains(?, service_id)",
        [service_ids],
    ).fetchall()
    return {str(incident_id): str(summary) for incident_id, summary in rows}


def _orchestration_rules(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """Each service's readable Event Orchestration rules, in evaluation order."""
    rules: dict[str, list[dict]] = {}
    if not table_exists(con, "stg_service_orchestration_rules"):
        return rules
    for r in _rows(
        con,
        "select * from stg_service_orchestration_rules where problem is null "
        "order by service_id, set_id = 'catch_all', set_id, rule_position",
    ):
        rules.setdefault(str(r["service_id"]), []).append(r)
    return rules


class AlreadyOn(dict):
    """A recommendation not made because the account already has the setting: its kind,
    team, service, alert type, what is configured and what the rule would have proposed
    (a row of ``recommendations_already_on``)."""

    # Set when an Event Orchestration rule suppresses or drops the alerts: no other
    # recommendation kind applies to them either (not a column of the table).
    suppressed = False


def already_on(
    first: pd.Series, kind: str, configured: str, proposed: str, evidence: dict | None = None
) -> AlreadyOn:
    """The already-on row of a rule over the incidents whose first row is ``first``."""
    return AlreadyOn(
        kind=kind,
        team_id=first["team_id"],
        team_name=first["team_name"],
        service_id=first["service_id"],
        service_name=first["service_name"],
        template_id=first.get("template_id"),
        template=first.get("template"),
        group_id=first.get("group_id") if kind == "group_alerts" else None,
        configured=configured,
        proposed=proposed,
        evidence=json.dumps(evidence, default=str) if evidence else None,
    )
