"""The simulated organisation: teams, users, services, escalation policies, schedules, on-calls.

The organisation is built from a blueprint of six teams and 25 services (one "business unit").
Larger scales add more business units (EU, US, APAC, ...), each a copy of the blueprint with its
own people, services and dependencies; smaller scales keep the first teams of one unit. The API
objects follow the shapes of PagerDuty's OpenAPI spec; alongside them this module keeps the plain
Python facts the incident generator needs (dependencies, rotations, contact rules) so that
per-incident work never has to parse API objects.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from simulator._common import API_BASE, WEB_BASE, IdFactory, iso, ref, seeded_rng

WEEK = 7 * 86400

# (team name, home time zone, other zones for follow-the-sun members, services)
# Each service: (name, kind, dependencies by name). Kinds drive the alert templates and roles:
# databases and queues are storm roots, apis/workers/web depend on them.
BLUEPRINT: list[tuple[str, str, tuple[str, ...], list[tuple[str, str, tuple[str, ...]]]]] = [
    (
        "Platform",
        "Europe/London",
        ("Asia/Kolkata",),
        [
            ("k8s-cluster", "platform", ()),
            ("ingress-gateway", "web", ("k8s-cluster",)),
            ("observability", "observability", ()),
            ("ci-cd", "ci", ()),
        ],
    ),
    (
        "Data",
        "Europe/Berlin",
        ("America/New_York",),
        [
            ("orders-db", "postgres", ()),
            ("users-db", "postgres", ()),
            ("cache-redis", "redis", ()),
            ("events-kafka", "kafka", ()),
        ],
    ),
    (
        "Payments",
        "America/New_York",
        ("America/Sao_Paulo",),
        [
            ("payments-api", "api", ("ledger-db", "payments-queue", "cache-redis")),
            ("payments-worker", "worker", ("payments-queue", "ledger-db")),
            ("ledger-db", "mysql", ()),
            ("payments-queue", "rabbitmq", ()),
        ],
    ),
    (
        "Checkout",
        "America/Los_Angeles",
        ("America/Chicago",),
        [
            ("checkout-api", "api", ("orders-db", "events-kafka", "payments-api")),
            ("cart-service", "api", ("cache-redis", "orders-db")),
            ("storefront-web", "web", ("checkout-api", "search-api", "ingress-gateway")),
            ("promotions-worker", "worker", ("events-kafka", "orders-db")),
        ],
    ),
    (
        "Search & Discovery",
        "Australia/Adelaide",
        ("Asia/Kolkata",),
        [
            ("search-api", "api", ("search-index", "catalog-db")),
            ("search-index", "search", ()),
            ("recommendations", "worker", ("events-kafka", "catalog-db")),
            ("catalog-db", "mongodb", ()),
        ],
    ),
    (
        "Identity",
        "Europe/Paris",
        ("Asia/Singapore", "Europe/Madrid"),
        [
            ("auth-api", "api", ("users-db", "sessions-redis", "events-kafka")),
            ("sessions-redis", "redis", ()),
            ("notifications-worker", "worker", ("events-kafka", "users-db")),
            ("user-profile-api", "api", ("users-db", "events-kafka")),
            ("sso-gateway", "web", ("auth-api",)),
        ],
    ),
]

TEAM_SIZES = (7, 7, 6, 7, 6, 7)  # 40 people per business unit
UNIT_SUFFIXES = ("", "EU", "US", "APAC", "LATAM", "UK", "DACH", "Nordics", "India", "Japan")
STORM_ROOT_KINDS = {"postgres", "mysql", "redis", "mongodb", "kafka", "rabbitmq"}

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ingrid",
    "Jamal",
    "Kavya",
    "Liam",
    "Mei",
    "Nikolai",
    "Olivia",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Arjun",
    "Beatriz",
    "Carlos",
    "Dana",
    "Emeka",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Laura",
    "Mateo",
    "Nadia",
    "Oscar",
    "Paula",
    "Rahul",
    "Sofia",
    "Tom",
    "Valentina",
    "William",
    "Yara",
    "Ahmed",
    "Lena",
)
LAST_NAMES = (
    "Okafor",
    "Schmidt",
    "Dubois",
    "Ivanova",
    "Rossi",
    "Haddad",
    "Kim",
    "Tanaka",
    "Larsen",
    "Brown",
    "Iyer",
    "Murphy",
    "Chen",
    "Petrov",
    "Smith",
    "Sharma",
    "Martin",
    "Garcia",
    "Berg",
    "Aziz",
    "Nair",
    "Novak",
    "Wang",
    "López",
    "Demir",
    "Taylor",
    "Patel",
    "Souza",
    "Ruiz",
    "Cohen",
    "Adeyemi",
    "Khan",
    "Moreau",
    "Sato",
    "Kowalski",
    "Fischer",
    "Ito",
    "Wilson",
    "Fernández",
    "Ali",
    "Nilsson",
    "Costa",
    "Gupta",
    "Johansson",
    "Walsh",
    "Romero",
    "Evans",
)
JOB_TITLES = (
    "Site Reliability Engineer",
    "Senior Software Engineer",
    "Software Engineer",
    "Staff Engineer",
    "Platform Engineer",
    "Database Reliability Engineer",
    "Engineering Manager",
)

# Notification plans (high urgency): (seconds after assignment, notification type).
# Styles seen in real accounts: app push first then escalating to SMS/phone; phone-first people.
NOTIFICATION_STYLES: tuple[tuple[tuple[int, str], ...], ...] = (
    (
        (0, "push_notification"),
        (0, "email_notification"),
        (2, "sms_notification"),
        (30, "push_notification"),
        (300, "phone_notification"),
    ),
    (
        (0, "push_notification"),
        (0, "email_notification"),
        (60, "push_notification"),
        (90, "phone_notification"),
    ),
    (
        (0, "sms_notification"),
        (0, "email_notification"),
        (120, "phone_notification"),
        (600, "phone_notification"),
    ),
    ((0, "phone_notification"), (0, "email_notification"), (45, "sms_notification")),
    (
        (0, "push_notification"),
        (3, "sms_notification"),
        (0, "email_notification"),
        (180, "sms_notification"),
    ),
)
LOW_URGENCY_STYLE: tuple[tuple[int, str], ...] = (
    (0, "email_notification"),
    (0, "push_notification"),
)


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
class Organisation:
    """The organisation as API objects plus the precomputed facts behind them."""

    teams: list[dict]
    users: list[dict]
    services: list[dict]
    escalation_policies: list[dict]
    schedules: list[dict]
    priorities: list[dict]
    oncalls: list[dict]
    team_info: list[TeamInfo]
    user_info: list[UserInfo]
    service_info: list[ServiceInfo]
    schedule_info: list[ScheduleInfo]
    ep_info: list[EscalationInfo]
    priority_refs: list[dict]


def _units_for_scale(scale: float) -> list[tuple[int, int]]:
    """(unit index, number of blueprint teams) per business unit for a scale factor."""
    n_services = max(4, round(25 * scale))
    units: list[tuple[int, int]] = []
    remaining = n_services
    unit = 0
    while remaining > 0:
        teams = 0
        for _name, _zone, _others, services in BLUEPRINT:
            if remaining <= 0:
                break
            teams += 1
            remaining -= len(services)
        units.append((unit, teams))
        unit += 1
    return units


def _weekly_monday(t0: int, hour_utc: int) -> int:
    """The Monday at hour_utc:00 UTC on or before epoch t0 (1970-01-05 was a Monday)."""
    monday0 = 4 * 86400
    weeks = (t0 - monday0 - hour_utc * 3600) // WEEK
    return monday0 + weeks * WEEK + hour_utc * 3600


def build_organisation(
    seed: int, scale: float, start: int, horizon: int, ids: IdFactory
) -> Organisation:
    """Build the organisation for [start, horizon) (horizon covers the on-call look-ahead)."""
    rng = seeded_rng(seed, "org")
    counter = iter(range(1, 10_000_000))

    def new_id() -> str:
        return ids.pd_id(next(counter))

    created = start - 400 * 86400  # objects existed long before the simulated period

    teams: list[dict] = []
    team_info: list[TeamInfo] = []
    users: list[dict] = []
    user_info: list[UserInfo] = []
    services: list[dict] = []
    service_info: list[ServiceInfo] = []
    schedules: list[dict] = []
    schedule_info: list[ScheduleInfo] = []
    eps: list[dict] = []
    ep_info: list[EscalationInfo] = []
    used_names: set[str] = set()

    for unit, n_teams in _units_for_scale(scale):
        suffix = UNIT_SUFFIXES[unit] if unit < len(UNIT_SUFFIXES) else f"U{unit}"
        name_by_local: dict[str, int] = {}
        unit_services: list[tuple[int, tuple[str, ...]]] = []
        for t_idx, (tname, home_zone, other_zones, svc_specs) in enumerate(BLUEPRINT[:n_teams]):
            team_name = f"{tname} {suffix}".strip()
            team_id = new_id()
            team_ref = ref("team", team_id, team_name, "teams")
            team_index = len(teams)
            teams.append(
                {
                    "id": team_id,
                    "type": "team",
                    "summary": team_name,
                    "self": team_ref["self"],
                    "html_url": team_ref["html_url"],
                    "name": team_name,
                    "description": f"Owns {', '.join(s[0] for s in svc_specs)}",
                    "default_role": "manager",
                    "parent": None,
                }
            )
            # People: most in the team's home zone, some follow-the-sun, a few without a zone.
            members: list[int] = []
            for m in range(TEAM_SIZES[t_idx % len(TEAM_SIZES)]):
                u_index = len(users)
                while True:
                    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    if name not in used_names:
                        used_names.add(name)
                        break
                if m < 2 and other_zones:
                    zone: str | None = other_zones[m % len(other_zones)]
                else:
                    zone = home_zone
                if rng.random() < 0.1:
                    zone = None
                uid = new_id()
                local = name.lower().replace(" ", ".").replace("é", "e").replace("á", "a")
                local = local.replace("ó", "o").replace("í", "i")
                email = f"{local}@acme.example"
                phone = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
                style = NOTIFICATION_STYLES[rng.randrange(len(NOTIFICATION_STYLES))]
                uref = ref("user", uid, name, "users")
                contact_methods = []
                for cm_type, summary in (
                    ("email", "Default"),
                    ("phone", "Mobile"),
                    ("sms", "Mobile"),
                    ("push_notification", "iPhone"),
                ):
                    cid = new_id()
                    contact_methods.append(
                        {
                            "id": cid,
                            "type": f"{cm_type}_contact_method_reference",
                            "summary": summary,
                            "self": f"{API_BASE}/users/{uid}/contact_methods/{cid}",
                            "html_url": None,
                        }
                    )
                rules = []
                for delay, ntype in style:
                    rid = new_id()
                    rules.append(
                        {
                            "id": rid,
                            "type": "assignment_notification_rule_reference",
                            "summary": f"{delay // 60} minutes: channel {ntype.split('_')[0]}",
                            "self": f"{API_BASE}/users/{uid}/notification_rules/{rid}",
                            "html_url": None,
                        }
                    )
                user = {
                    "id": uid,
                    "type": "user",
                    "summary": name,
                    "self": uref["self"],
                    "html_url": uref["html_url"],
                    "name": name,
                    "email": email,
                    "color": rng.choice(("green", "purple", "teal", "orange", "red", "blue")),
                    "role": "admin" if m == 0 else "user",
                    "avatar_url": f"https://secure.gravatar.com/avatar/{uid.lower()}.png?d=mm&r=PG",
                    "description": None,
                    "invitation_sent": False,
                    "job_title": JOB_TITLES[0 if m == 0 else rng.randrange(len(JOB_TITLES))],
                    "teams": [team_ref],
                    "contact_methods": contact_methods,
                    "notification_rules": rules,
                }
                if zone is not None:
                    user["time_zone"] = zone
                users.append(user)
                user_info.append(
                    UserInfo(
                        index=u_index,
                        ref=uref,
                        name=name,
                        time_zone=zone,
                        email=email,
                        phone=phone,
                        high_rules=style,
                        low_rules=LOW_URGENCY_STYLE,
                        team_index=team_index,
                        speed=math.exp(rng.gauss(0, 0.3)),
                    )
                )
                members.append(u_index)

            # Schedules: primary (weekly, plus a follow-the-sun night layer when the team has
            # members abroad), secondary (weekly, shifted by one person), leads (fortnightly).
            home = [u for u in members if user_info[u].time_zone in (home_zone, None)]
            abroad = [u for u in members if u not in home]
            if len(home) < 2:
                home, abroad = members, []
            handoff_hour = rng.choice((8, 9, 15, 16))
            sched_idx = []
            for kind in ("Primary", "Secondary", "Leads"):
                sid = new_id()
                sname = f"{team_name} {kind}"
                sref = ref("schedule", sid, sname, "schedules")
                virtual = _weekly_monday(start - 30 * 86400, handoff_hour)
                layers_spec: list[tuple[list[int], int, tuple[int, int] | None]] = []
                if kind == "Primary":
                    layers_spec.append((home, WEEK, None))
                    if abroad:
                        # Night layer: the abroad members cover the home team's night,
                        # 20:00-08:00 home time (fixed UTC hours: DST shifts are ignored).
                        offset = ZoneInfo(home_zone).utcoffset(datetime.fromtimestamp(start, UTC))
                        night_utc = (20 - round(offset.total_seconds() / 3600)) % 24
                        layers_spec.append((abroad, WEEK, (night_utc, 12)))
                elif kind == "Secondary":
                    rotated = members[1:] + members[:1]
                    layers_spec.append((rotated, WEEK, None))
                else:
                    layers_spec.append((members[:2], 2 * WEEK, None))
                layer_objs = []
                for li, (lusers, turn, restriction) in enumerate(layers_spec, start=1):
                    layer = {
                        "id": new_id(),
                        "name": f"Layer {li}" if li == 1 else "Night cover",
                        "start": iso(virtual),
                        "end": None,
                        "rotation_virtual_start": iso(virtual),
                        "rotation_turn_length_seconds": turn,
                        "users": [{"user": user_info[u].ref} for u in lusers],
                        "restrictions": []
                        if restriction is None
                        else [
                            {
                                "type": "daily_restriction",
                                # Restrictions are in the schedule's zone: 20:00 home time.
                                "start_time_of_day": "20:00:00",
                                "duration_seconds": restriction[1] * 3600,
                            }
                        ],
                    }
                    layer_objs.append(layer)
                info = ScheduleInfo(ref=sref)
                _render_schedule(info, layers_spec, virtual, start, horizon)
                schedule_info.append(info)
                schedules.append(
                    {
                        "id": sid,
                        "type": "schedule",
                        "summary": sname,
                        "self": sref["self"],
                        "html_url": sref["html_url"],
                        "name": sname,
                        "time_zone": home_zone,
                        "description": f"{kind} on-call rotation of {team_name}",
                        # PagerDuty lists layers most recent (highest) first.
                        "schedule_layers": list(reversed(layer_objs)),
                        "escalation_policies": [],
                        "users": [
                            user_info[u].ref
                            for u in sorted({u for ls in layers_spec for u in ls[0]})
                        ],
                        "teams": [team_ref],
                    }
                )
                sched_idx.append(len(schedules) - 1)

            # Escalation policy: 2 or 3 levels with per-level timeouts.
            ep_id = new_id()
            ep_name = f"{team_name} Escalation"
            ep_ref = ref("escalation_policy", ep_id, ep_name, "escalation_policies")
            n_levels = 3 if rng.random() < 0.5 else 2
            delays = [rng.choice((10, 15, 15, 30)) * 60, rng.choice((15, 30)) * 60, 30 * 60]
            levels = [(sched_idx[lv], delays[lv]) for lv in range(n_levels)]
            num_loops = rng.choice((0, 1, 2))
            rules = []
            for s_i, delay in levels:
                rules.append(
                    {
                        "id": new_id(),
                        "escalation_delay_in_minutes": delay // 60,
                        "targets": [schedule_info[s_i].ref],
                        "escalation_rule_assignment_strategy": "assign_to_everyone",
                    }
                )
            eps.append(
                {
                    "id": ep_id,
                    "type": "escalation_policy",
                    "summary": ep_name,
                    "self": ep_ref["self"],
                    "html_url": ep_ref["html_url"],
                    "name": ep_name,
                    "description": f"Pages {team_name} on call",
                    "num_loops": num_loops,
                    "on_call_handoff_notifications": "if_has_services",
                    "escalation_rules": rules,
                    "services": [],
                    "teams": [team_ref],
                }
            )
            ep_info.append(EscalationInfo(ref=ep_ref, levels=levels, num_loops=num_loops))
            for s_i, _ in levels:
                schedules[s_i]["escalation_policies"].append(ep_ref)
            team_info.append(
                TeamInfo(
                    index=team_index,
                    ref=team_ref,
                    name=team_name,
                    home_zone=home_zone,
                    member_indexes=members,
                    ep_index=len(eps) - 1,
                )
            )

            for sname_local, kind, deps in svc_specs:
                svc_name = f"{sname_local}-{suffix.lower()}" if suffix else sname_local
                sid = new_id()
                sref = ref("service", sid, svc_name, "services", "service-directory")
                integ_id = new_id()
                fmt = _pick_format(rng, kind)
                vendor = {"datadog": "Datadog", "nagios": "Nagios", "email": "Email"}.get(
                    fmt, "Prometheus Alertmanager"
                )
                integ_type = (
                    "generic_email_inbound_integration_reference"
                    if fmt == "email"
                    else "events_api_v2_inbound_integration_reference"
                )
                integration = {
                    "id": integ_id,
                    "type": integ_type,
                    "summary": vendor,
                    "self": f"{API_BASE}/services/{sid}/integrations/{integ_id}",
                    "html_url": f"{WEB_BASE}/services/{sid}/integrations/{integ_id}",
                }
                urgency = "low" if kind in ("ci", "observability") else "high"
                grouping = rng.choice(("time", "intelligent")) if rng.random() < 0.3 else None
                ack_timeout = rng.choice((1800, 1800, 3600, None))
                auto_resolve = rng.choice((None, None, None, 14400, 86400))
                s_index = len(services)
                services.append(
                    {
                        "id": sid,
                        "type": "service",
                        "summary": svc_name,
                        "self": sref["self"],
                        "html_url": sref["html_url"],
                        "name": svc_name,
                        "description": f"{kind} service owned by {team_name}",
                        "auto_resolve_timeout": auto_resolve,
                        "acknowledgement_timeout": ack_timeout,
                        "created_at": iso(created + rng.randrange(0, 200 * 86400)),
                        "status": "active",
                        "escalation_policy": ep_ref,
                        "teams": [team_ref],
                        "integrations": [integration],
                        "incident_urgency_rule": {"type": "constant", "urgency": urgency},
                        "alert_creation": "create_alerts_and_incidents",
                    }
                )
                if grouping:
                    services[-1]["alert_grouping_parameters"] = (
                        {"type": "time", "config": {"timeout": 5}}
                        if grouping == "time"
                        else {"type": "intelligent", "config": {"time_window": 300}}
                    )
                eps[-1]["services"].append(sref)
                service_info.append(
                    ServiceInfo(
                        index=s_index,
                        ref=sref,
                        name=svc_name,
                        kind=kind,
                        team_index=team_index,
                        ep_index=len(eps) - 1,
                        depends_on=[],
                        dependents=[],
                        urgency=urgency,
                        acknowledgement_timeout=ack_timeout,
                        auto_resolve_timeout=auto_resolve,
                        grouping=grouping,
                        integration=integration,
                        source_format=fmt,
                        namespace=sname_local.split("-")[0]
                        + (f"-{suffix.lower()}" if suffix else ""),
                        base_rate_per_day=math.exp(rng.gauss(math.log(0.5), 0.55)),
                        host_prefix=sname_local,
                    )
                )
                name_by_local[sname_local] = s_index
                unit_services.append((s_index, deps))
        for s_index, deps in unit_services:
            for dep in deps:
                d = name_by_local.get(dep)
                if d is not None:  # small scales drop dependencies on absent teams
                    service_info[s_index].depends_on.append(d)
                    service_info[d].dependents.append(s_index)

    priorities, priority_refs = _priorities(new_id)
    oncalls = _oncalls(ep_info, schedule_info, user_info, start, horizon)
    return Organisation(
        teams=teams,
        users=users,
        services=services,
        escalation_policies=eps,
        schedules=schedules,
        priorities=priorities,
        oncalls=oncalls,
        team_info=team_info,
        user_info=user_info,
        service_info=service_info,
        schedule_info=schedule_info,
        ep_info=ep_info,
        priority_refs=priority_refs,
    )


def _pick_format(rng, kind: str) -> str:
    """Which monitoring tool pages for a service, weighted like a typical k8s shop."""
    if kind in ("platform", "api", "worker", "observability", "kafka", "redis"):
        choices = (
            "alertmanager",
            "alertmanager",
            "alertmanager_legacy",
            "alertmanager_summary",
            "datadog",
        )
    elif kind in ("postgres", "mysql", "mongodb", "rabbitmq", "search"):
        choices = ("datadog", "alertmanager_summary", "alertmanager", "nagios")
    elif kind == "ci":
        choices = ("email", "alertmanager_summary")
    else:
        choices = ("datadog", "alertmanager", "alertmanager_summary")
    return rng.choice(choices)


def _priorities(new_id) -> tuple[list[dict], list[dict]]:
    descriptions = (
        "Critical issue that warrants public notification and liaison with executive teams",
        "Critical system issue actively impacting many customers' ability to use the product",
        "Stability or minor customer-impacting issues that require immediate attention",
        "Minor issues requiring action, but not affecting customer ability to use the product",
        "Cosmetic issues or bugs, not affecting customer ability to use the product",
    )
    priorities, refs = [], []
    for i, desc in enumerate(descriptions, start=1):
        pid = new_id()
        r = ref("priority", pid, f"P{i}", "priorities", "account/incident_priorities")
        priorities.append(
            {
                "id": pid,
                "type": "priority",
                "summary": f"P{i}",
                "self": r["self"],
                "html_url": None,
                "name": f"P{i}",
                "description": desc,
                "order": i,
            }
        )
        refs.append(r)
    return priorities, refs


def _render_schedule(info: ScheduleInfo, layers, virtual: int, start: int, horizon: int) -> None:
    """Compute the final timeline: upper layers win inside their restriction windows."""
    lo = start - WEEK * 3
    hi = horizon + WEEK * 3
    base_users, base_turn, _ = layers[0]
    points: list[tuple[int, int]] = []  # (segment start, user)
    k = (lo - virtual) // base_turn
    t = virtual + k * base_turn
    while t < hi:
        points.append((t, base_users[k % len(base_users)]))
        k += 1
        t += base_turn
    if len(layers) > 1:
        night_users, night_turn, (hour, hours) = layers[1]
        merged: list[tuple[int, int]] = []
        day = lo - lo % 86400
        windows = []
        while day < hi:
            ws = day + hour * 3600
            turn = (ws - virtual) // night_turn
            windows.append((ws, ws + hours * 3600, night_users[turn % len(night_users)]))
            day += 86400
        # Walk base segments and cut the night windows into them.
        bounds = sorted({p[0] for p in points} | {w[0] for w in windows} | {w[1] for w in windows})
        base_starts = [p[0] for p in points]
        wi = 0
        for b in bounds:
            while wi < len(windows) and windows[wi][1] <= b:
                wi += 1
            if wi < len(windows) and windows[wi][0] <= b < windows[wi][1]:
                user = windows[wi][2]
            else:
                user = points[max(0, bisect.bisect_right(base_starts, b) - 1)][1]
            merged.append((b, user))
        points = merged
    # Merge adjacent segments of the same user.
    for seg_start, user in points:
        if info.users and info.users[-1] == user:
            continue
        if info.starts:
            info.ends.append(seg_start)
        info.starts.append(seg_start)
        info.users.append(user)
    info.ends.append(hi)


def _oncalls(ep_info, schedule_info, user_info, start: int, horizon: int) -> list[dict]:
    """OnCall objects for every escalation level, for the periods overlapping [start, horizon)."""
    out = []
    for ep in ep_info:
        for level, (s_i, _delay) in enumerate(ep.levels, start=1):
            sched = schedule_info[s_i]
            for seg_start, seg_end, u in zip(sched.starts, sched.ends, sched.users, strict=False):
                if seg_end <= start or seg_start >= horizon:
                    continue
                out.append(
                    {
                        "escalation_policy": ep.ref,
                        "escalation_level": level,
                        "schedule": sched.ref,
                        "user": user_info[u].ref,
                        "start": iso(seg_start),
                        "end": iso(seg_end),
                    }
                )
    out.sort(key=lambda o: (o["start"], o["escalation_policy"]["id"], o["escalation_level"]))
    return out
