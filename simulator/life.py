"""The working state of one incident while its lifecycle is simulated.

:class:`Life` carries what the steps of :mod:`simulator.lifecycle` and
:mod:`simulator.responders` share: the plan, the rendered alerts, the references, the log
entry events so far and the times decided so far (acknowledgement, work, resolution).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.org import EscalationInfo, ServiceInfo
from simulator.plan import Plan


@dataclass
class Life:
    """One incident being simulated; times are epoch seconds, users are user indexes."""

    plan: Plan
    service: ServiceInfo
    number: int
    inc_id: str
    # (t, rule, labels, alert_key, summary, details, severity) per planned alert
    rendered: list[tuple]
    inc_ref: dict
    teams: list[dict]
    ep: EscalationInfo
    urgency: str
    events: list[tuple[int, str, dict]] = field(default_factory=list)  # (time, type, fields)
    # Who holds it: the escalation level, its on-call user and the current assignees.
    level: int = 0
    level_user: int = 0
    assignees: list[int] = field(default_factory=list)
    # When it ends without people: the integration, the auto-resolve timeout, someone closing.
    auto_at: int | None = None
    timeout_at: int | None = None
    close_at: int | None = None
    stop_at: int = 0
    ack_time: int | None = None
    acker: int | None = None
    ackers: list[int] = field(default_factory=list)
    work: int = 0
    human_resolve: int = 0
    resolve_time: int | None = None
    resolve_agent: dict | None = None
    resolve_channel: str | None = None

    @property
    def t0(self) -> int:
        return self.plan.t

    @property
    def title(self) -> str:
        return self.rendered[0][4]

    @property
    def key(self) -> str:
        """The incident key: the first alert's key."""
        return self.rendered[0][3]

    def add(self, t: int, etype: str, **fields) -> None:
        """A log entry event (its id and order are fixed when the incident is assembled)."""
        self.events.append((t, etype, fields))
