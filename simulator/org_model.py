"""The organisation as API objects plus the plain facts the incident generator needs
(dependencies, rotations, contact rules), so per-incident work never parses API objects."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class UserInfo:
    """What the incident generator needs about a person."""

    index: int
    ref: dict
    name: str
    time_zone: str | None  # None: the account's zone applies
    email: str
    phone: str
    high_rules: tuple[tuple[int, str], ...]
    low_rules: tuple[tuple[int, str], ...]
    team_index: int
    # A personal speed factor on acknowledgement delays (some people are just faster).
    speed: float = 1.0


@dataclass
class ScheduleInfo:
    """A schedule's final on-call timeline: sorted segment starts, ends and user indexes."""

    ref: dict
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)

    def user_at(self, t: int) -> int:
        """Index of the user on call at epoch second t (the nearest segment at the edges)."""
        i = bisect.bisect_right(self.starts, t) - 1
        return self.users[max(0, min(i, len(self.users) - 1))]


@dataclass
class TeamInfo:
    index: int
    ref: dict
    name: str
    home_zone: str
    member_indexes: list[int]
    ep_index: int


@dataclass
class EscalationInfo:
    ref: dict
    # Per level: (schedule index, escalation delay in seconds)
    levels: list[tuple[int, int]]
    num_loops: int


@dataclass
class ServiceInfo:
    """Per-service parameters, precomputed once so per-incident work stays cheap."""

    index: int
    ref: dict
    name: str
    kind: str
    team_index: int
    ep_index: int
    depends_on: list[int]
    dependents: list[int]
    urgency: str  # "high" or "low": the service's urgency rule
    acknowledgement_timeout: int | None
    auto_resolve_timeout: int | None
    grouping: str | None  # None (one incident per alert), "time", "intelligent"
    integration: dict  # reference; its vendor decides the alert format
    source_format: (
        str  # alertmanager | alertmanager_legacy | alertmanager_summary | datadog | nagios | email
    )
    namespace: str
    base_rate_per_day: float = 1.0
    host_prefix: str = ""


@dataclass
class ApiObjects:
    """The organisation's API objects, one list per collection the account serves (the
    organisation builds them, the account serves them, the scale generator stores them)."""

    teams: list[dict]
    users: list[dict]
    services: list[dict]
    escalation_policies: list[dict]
    schedules: list[dict]
    priorities: list[dict]
    oncalls: list[dict]

    def api_objects(self) -> dict[str, list[dict]]:
        """Collection name -> its objects, in :data:`API_COLLECTIONS` order."""
        return {name: getattr(self, name) for name in API_COLLECTIONS}


API_COLLECTIONS: tuple[str, ...] = tuple(f.name for f in fields(ApiObjects))


@dataclass
class Organisation(ApiObjects):
    """The organisation as API objects plus the precomputed facts behind them."""

    team_info: list[TeamInfo]
    user_info: list[UserInfo]
    service_info: list[ServiceInfo]
    schedule_info: list[ScheduleInfo]
    ep_info: list[EscalationInfo]
    priority_refs: list[dict]


@dataclass
class OrgDraft:
    """The organisation while it is built: the lists so far, the RNG and the id counter.

    Every builder step appends to these lists and draws from ``rng`` and ``new_id`` in the
    order of the blueprint, which fixes the organisation for a seed.
    """

    rng: Any
    new_id: Callable[[], str]
    start: int
    horizon: int
    teams: list[dict] = field(default_factory=list)
    team_info: list[TeamInfo] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    user_info: list[UserInfo] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    service_info: list[ServiceInfo] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    schedule_info: list[ScheduleInfo] = field(default_factory=list)
    eps: list[dict] = field(default_factory=list)
    ep_info: list[EscalationInfo] = field(default_factory=list)
    used_names: set[str] = field(default_factory=set)
