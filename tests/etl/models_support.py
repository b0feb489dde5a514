"""Hand-made raw layers for the model tests: PagerDuty REST API v2 payloads, written into
the raw tables of a DuckDB connection exactly as the loader stores them.

``RawAccount`` collects payload dicts through small builders (``incident``, ``ack``,
``notify``, ...) whose defaults are what PagerDuty sends; a test states only what matters to
its case. No tests live here.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from etl.warehouse import RAW_RESOURCES, ensure_raw_schema

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)  # a Monday, noon UTC
FETCHED_AT = datetime(2026, 4, 1, tzinfo=UTC)


def iso(ts: datetime) -> str:
    """PagerDuty's timestamp format: UTC with a Z."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(seconds: float = 0, base: datetime = T0) -> datetime:
    """An instant ``seconds`` after ``base``."""
    return base + timedelta(seconds=seconds)


def ref(kind: str, ident: str, summary: str | None = None) -> dict:
    """A PagerDuty reference object."""
    return {
        "id": ident,
        "type": f"{kind}_reference",
        "summary": summary or ident,
        "self": f"https://api.pagerduty.com/{kind}s/{ident}",
        "html_url": f"https://acme.pagerduty.com/{kind}s/{ident}",
    }


USER_AGENT = "user"
SERVICE_AGENT = "service"
INTEGRATION_AGENT = "integration"


@dataclass
class RawAccount:
    """Payloads per raw resource, written with :meth:`write`."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: {r: [] for r in RAW_RESOURCES})
    _entry_seq: int = 0

    def _add(self, resource: str, payload: dict) -> dict:
        """Keep ``payload`` as a row of ``resource`` and hand it back to the test."""
        self.rows[resource].append(payload)
        return payload

    # -- directory objects -------------------------------------------------------------
    def team(self, team_id: str, name: str | None = None) -> dict:
        payload = {
            "id": team_id,
            "type": "team",
            "name": name or team_id,
            "summary": name or team_id,
        }
        return self._add("teams", payload)

    def user(
        self, user_id: str, time_zone: str | None = "UTC", team_id: str | None = None, name=None
    ) -> dict:
        payload = {
            "id": user_id,
            "type": "user",
            "name": name or f"User {user_id}",
            "email": f"{user_id.lower()}@example.com",
            "teams": [ref("team", team_id)] if team_id else [],
        }
        if time_zone is not None:
            payload["time_zone"] = time_zone
        return self._add("users", payload)

    def service(self, service_id: str, team_id: str | None = None, name: str | None = None) -> dict:
        payload = {
            "id": service_id,
            "type": "service",
            "name": name or f"Service {service_id}",
            "status": "active",
            "teams": [ref("team", team_id)] if team_id else [],
            "escalation_policy": ref("escalation_policy", "PEP0001"),
        }
        return self._add("services", payload)

    def priorities(self, names: tuple[str, ...] = ("P1", "P2", "P3", "P4", "P5")) -> None:
        for order, name in enumerate(names, start=1):
            self.rows["priorities"].append(
                {
                    "id": f"PRI{name}",
                    "type": "priority",
                    "name": name,
                    "summary": name,
                    "order": order,
                }
            )

    def oncall(
        self,
        user_id: str,
        start: datetime | None,
        end: datetime | None,
        level: int = 1,
        schedule_id: str = "PSCHED1",
        policy_id: str = "PEP0001",
    ) -> dict:
        payload = {
            "user": ref("user", user_id),
            "schedule": ref("schedule", schedule_id),
            "escalation_policy": ref("escalation_policy", policy_id),
            "escalation_level": level,
            "start": iso(start) if start else None,
            "end": iso(end) if end else None,
        }
        key = "|".join(
            [
                schedule_id,
                policy_id,
                user_id,
                str(level),
                payload["start"] or "",
                payload["end"] or "",
            ]
        )
        payload["_key"] = hashlib.md5(key.encode()).hexdigest()
        return self._add("oncalls", payload)

    # -- incidents and log entries ----------------------------------------------------
    def incident(
        self,
        incident_id: str,
        created: datetime,
        *,
        service_id: str = "PSVC001",
        status: str = "resolved",
        resolved_at: datetime | None = None,
        urgency: str = "high",
        priority: str | None = None,
        team_id: str | None = None,
        alerts: int = 1,
        title: str | None = None,
    ) -> dict:
        payload = {
            "id": incident_id,
            "type": "incident",
            "incident_number": len(self.rows["incidents"]) + 1,
            "title": title or f"Incident {incident_id}",
            "summary": title or f"Incident {incident_id}",
            "status": status,
            "urgency": urgency,
            "created_at": iso(created),
            "service": ref("service", service_id),
            "escalation_policy": ref("escalation_policy", "PEP0001"),
            "priority": (
                {"id": f"PRI{priority}", "type": "priority_reference", "summary": priority}
                if priority
                else None
            ),
            "teams": [ref("team", team_id)] if team_id else [],
            "alert_counts": {"all": alerts, "triggered": 0, "resolved": alerts},
            "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
            "resolved_at": iso(resolved_at) if resolved_at else None,
        }
        return self._add("incidents", payload)

    def entry(
        self,
        incident_id: str,
        entry_type: str,
        when: datetime,
        *,
        agent: str | None = USER_AGENT,
        agent_id: str | None = None,
        channel: str | None = "web_ui",
        extra: dict | None = None,
    ) -> dict:
        self._entry_seq += 1
        payload: dict = {
            "id": f"R{self._entry_seq:025d}",
            "type": entry_type,
            "created_at": iso(when),
            "incident": ref("incident", incident_id),
            "service": ref("service", "PSVC001"),
        }
        if agent is not None:
            payload["agent"] = ref(
                agent, agent_id or ("PUSER01" if agent == USER_AGENT else "PINT001")
            )
        if channel is not None:
            payload["channel"] = {"type": channel}
        payload.update(extra or {})
        return self._add("log_entries", payload)

    def trigger(self, incident_id: str, when: datetime) -> dict:
        return self.entry(
            incident_id, "trigger_log_entry", when, agent=SERVICE_AGENT, channel="api"
        )

    def ack(self, incident_id: str, when: datetime, user_id: str = "PUSER01", **kw) -> dict:
        return self.entry(incident_id, "acknowledge_log_entry", when, agent_id=user_id, **kw)

    def unack(self, incident_id: str, when: datetime) -> dict:
        return self.entry(
            incident_id, "unacknowledge_log_entry", when, agent=SERVICE_AGENT, channel="timeout"
        )

    def resolve(
        self,
        incident_id: str,
        when: datetime,
        *,
        agent: str | None = USER_AGENT,
        agent_id: str | None = None,
        channel: str | None = "web_ui",
    ) -> dict:
        return self.entry(
            incident_id, "resolve_log_entry", when, agent=agent, agent_id=agent_id, channel=channel
        )

    def auto_resolve(self, incident_id: str, when: datetime) -> dict:
        return self.resolve(incident_id, when, agent=SERVICE_AGENT, channel="auto")

    def escalate(self, incident_id: str, when: datetime) -> dict:
        return self.entry(
            incident_id, "escalate_log_entry", when, agent=SERVICE_AGENT, channel="timeout"
        )

    def notify(
        self, incident_id: str, when: datetime, user_id: str, kind: str = "push_notification"
    ) -> dict:
        return self.entry(
            incident_id,
            "notify_log_entry",
            when,
            agent=SERVICE_AGENT,
            channel="notification",
            extra={
                "user": ref("user", user_id),
                "channel": {
                    "type": "notification",
                    "notification": {"type": kind, "status": "success"},
                },
            },
        )

    # -- writing ------------------------------------------------------------------------
    def write(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        shuffle_seed: int | None = None,
        fetched_at: datetime = FETCHED_AT,
    ) -> None:
        """Insert every payload into its raw table (optionally in a shuffled order)."""
        ensure_raw_schema(con)
        for resource, payloads in self.rows.items():
            items = list(payloads)
            if shuffle_seed is not None:
                random.Random(shuffle_seed).shuffle(items)
            rows = []
            for payload in items:
                body = dict(payload)
                key = body.pop("_key", None) or body["id"]
                rows.append([key, json.dumps(body), fetched_at])
            if rows:
                con.executemany(
                    f"insert or replace into raw_{resource} values (?, ?, ?)",
                    rows,  # noqa: S608
                )

    def sync_run(
        self,
        con: duckdb.DuckDBPyConnection,
        since: datetime,
        until: datetime,
        run_id: str = "run-1",
    ) -> None:
        """Record a successful sync over [since, until) (the synced period)."""
        ensure_raw_schema(con)
        con.execute(
            "insert into _sync_runs (run_id, started_at, finished_at, status, since, until, mode)"
            " values (?, ?, ?, 'ok', ?, ?, 'full')",
            [run_id, until, until, since, until],
        )


def base_account(**users_tz: str | None) -> RawAccount:
    """One team, one service, priorities P1-P5 and users (id -> time zone)."""
    account = RawAccount()
    account.team("PTEAM01", "Payments")
    account.service("PSVC001", "PTEAM01", "checkout-api")
    account.priorities()
    for user_id, tz in (users_tz or {"PUSER01": "UTC"}).items():
        account.user(user_id, tz, "PTEAM01")
    return account


def default_config(**overrides):
    """The shipped defaults (ignoring any pagerlens.toml in the working directory)."""
    from dataclasses import replace

    from etl.config import DEFAULTS_PATH, load_config

    return replace(load_config(DEFAULTS_PATH), **overrides)


def build_account(
    account: RawAccount,
    *,
    shuffle_seed: int | None = None,
    synced: tuple[datetime, datetime] | None = None,
    **overrides,
):
    """A fresh in-memory warehouse with ``account`` written and every mart built.

    ``overrides`` change the shipped defaults (see :func:`default_config`); ``synced`` records a
    finished sync run over ``(since, until)``, which the on-call and health marts read.
    """
    from etl.transform import build_marts

    con = duckdb.connect()
    account.write(con, shuffle_seed=shuffle_seed)
    if synced is not None:
        account.sync_run(con, *synced)
    # The noise marts are another module's, tested there; the build tests run them.
    build_marts(con, default_config(**overrides), noise=False)
    return con


def records(columns: str, rows: list[tuple]) -> list[dict]:
    """Expected rows written as a table: ``columns`` space-separated, then one tuple a row."""
    names = columns.split()
    return [dict(zip(names, row, strict=True)) for row in rows]


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """All rows of a query as dicts."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
