"""The simulated organisation: teams, users, services, escalation policies, schedules, on-calls.

The organisation is built from a blueprint of six teams and 25 services (one "business unit",
:mod:`simulator.blueprint`). Larger scales add more business units (EU, US, APAC, ...), each a
copy of the blueprint with its own people, services and dependencies; smaller scales keep the
first teams of one unit. The API objects follow the shapes of PagerDuty's OpenAPI spec;
alongside them the organisation keeps the plain Python facts the incident generator needs
(:mod:`simulator.org_model`) so that per-incident work never has to parse API objects.
Everything is drawn from the ``org`` RNG stream and one id counter, in blueprint order.
"""

from __future__ import annotations

import math

from simulator._common import API_BASE, WEB_BASE, IdFactory, iso, ref, seeded_rng
from simulator.blueprint import (
    BLUEPRINT,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    LOW_URGENCY_STYLE,
    NOTIFICATION_STYLES,
    STORM_ROOT_KINDS,
    TEAM_SIZES,
    UNIT_SUFFIXES,
    pick_format,
    units_for_scale,
)
from simulator.org_model import (
    EscalationInfo,
    Organisation,
    OrgDraft,
    ScheduleInfo,
    ServiceInfo,
    TeamInfo,
    UserInfo,
)
from simulator.schedules import add_team_schedules, oncalls

# The names other modules have always imported from here.
__all__ = [
    "BLUEPRINT",
    "STORM_ROOT_KINDS",
    "EscalationInfo",
    "Organisation",
    "ScheduleInfo",
    "ServiceInfo",
    "TeamInfo",
    "UserInfo",
    "build_organisation",
]


def build_organisation(
    seed: int, scale: float, start: int, horizon: int, ids: IdFactory
) -> Organisation:
    """Build the organisation for [start, horizon) (horizon covers the on-call look-ahead)."""
    counter = iter(range(1, 10_000_000))

    def new_id() -> str:
        return ids.pd_id(next(counter))

    draft = OrgDraft(rng=seeded_rng(seed, "org"), new_id=new_id, start=start, horizon=horizon)
    for unit, n_teams in units_for_scale(scale):
        _add_unit(draft, unit, n_teams)
    priorities, priority_refs = _priorities(new_id)
    return Organisation(
        **{name: getattr(draft, name) for name in _DRAFT_LISTS},
        escalation_policies=draft.eps,
        priorities=priorities,
        oncalls=oncalls(draft.ep_info, draft.schedule_info, draft.user_info, start, horizon),
        priority_refs=priority_refs,
    )


# The draft's lists that the organisation keeps as they are, under the same names: the API
# objects, then the facts behind them.
_DRAFT_LISTS = ("teams", "users", "services", "schedules")
_DRAFT_LISTS += ("team_info", "user_info", "service_info", "schedule_info", "ep_info")


def _add_unit(draft: OrgDraft, unit: int, n_teams: int) -> None:
    """One business unit: the first ``n_teams`` teams of the blueprint, then dependencies."""
    suffix = UNIT_SUFFIXES[unit] if unit < len(UNIT_SUFFIXES) else f"U{unit}"
    name_by_local: dict[str, int] = {}
    unit_services: list[tuple[int, tuple[str, ...]]] = []
    for t_idx, (tname, home_zone, other_zones, svc_specs) in enumerate(BLUEPRINT[:n_teams]):
        team_name = f"{tname} {suffix}".strip()
        team_ref, team_index = _add_team(draft, team_name, svc_specs)
        # People: most in the team's home zone, some follow-the-sun, a few without a zone.
        members: list[int] = []
        for m in range(TEAM_SIZES[t_idx % len(TEAM_SIZES)]):
            zones = (home_zone, other_zones)
            members.append(_add_member(draft, m, zones, team_ref, team_index))
        sched_idx = add_team_schedules(draft, team_name, team_ref, home_zone, members)
        ep_ref = _add_escalation_policy(draft, team_name, team_ref, sched_idx)
        draft.team_info.append(
            TeamInfo(
                index=team_index,
                ref=team_ref,
                name=team_name,
                home_zone=home_zone,
                member_indexes=members,
                ep_index=len(draft.eps) - 1,
            )
        )
        for sname_local, kind, deps in svc_specs:
            team = (team_name, team_ref, team_index, ep_ref)
            s_index = _add_service(draft, sname_local, kind, suffix, team)
            name_by_local[sname_local] = s_index
            unit_services.append((s_index, deps))
    for s_index, deps in unit_services:
        for dep in deps:
            d = name_by_local.get(dep)
            if d is not None:  # small scales drop dependencies on absent teams
                draft.service_info[s_index].depends_on.append(d)
                draft.service_info[d].dependents.append(s_index)


def _add_team(draft: OrgDraft, team_name: str, svc_specs) -> tuple[dict, int]:
    """The Team object; returns its reference and index."""
    team_id = draft.new_id()
    team_ref = ref("team", team_id, team_name, "teams")
    draft.teams.append(
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
    return team_ref, len(draft.teams) - 1


def _person(draft: OrgDraft, m: int, home_zone: str, other_zones: tuple[str, ...]):
    """A new unique name and the person's time zone (None: the account's zone)."""
    rng = draft.rng
    while True:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in draft.used_names:
            draft.used_names.add(name)
            break
    if m < 2 and other_zones:
        zone: str | None = other_zones[m % len(other_zones)]
    else:
        zone = home_zone
    if rng.random() < 0.1:
        zone = None
    return name, zone


def _add_member(draft: OrgDraft, m: int, zones: tuple, team_ref: dict, team_index: int) -> int:
    """The ``m``-th member of a team (``zones``: home zone, other zones); returns its index."""
    rng = draft.rng
    u_index = len(draft.users)
    name, zone = _person(draft, m, *zones)
    uid = draft.new_id()
    local = name.lower().replace(" ", ".").replace("é", "e").replace("á", "a")
    local = local.replace("ó", "o").replace("í", "i")
    email = f"{local}@acme.example"
    phone = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    style = NOTIFICATION_STYLES[rng.randrange(len(NOTIFICATION_STYLES))]
    uref = ref("user", uid, name, "users")
    contact_methods = _contact_methods(draft, uid)
    rules = _notification_rules(draft, uid, style)
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
    draft.users.append(user)
    draft.user_info.append(
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
    return u_index


def _contact_methods(draft: OrgDraft, uid: str) -> list[dict]:
    contact_methods = []
    for cm_type, summary in (
        ("email", "Default"),
        ("phone", "Mobile"),
        ("sms", "Mobile"),
        ("push_notification", "iPhone"),
    ):
        cid = draft.new_id()
        contact_methods.append(
            {
                "id": cid,
                "type": f"{cm_type}_contact_method_reference",
                "summary": summary,
                "self": f"{API_BASE}/users/{uid}/contact_methods/{cid}",
                "html_url": None,
            }
        )
    return contact_methods


def _notification_rules(draft: OrgDraft, uid: str, style) -> list[dict]:
    rules = []
    for delay, ntype in style:
        rid = draft.new_id()
        rules.append(
            {
                "id": rid,
                "type": "assignment_notification_rule_reference",
                "summary": f"{delay // 60} minutes: channel {ntype.split('_')[0]}",
                "self": f"{API_BASE}/users/{uid}/notification_rules/{rid}",
                "html_url": None,
            }
        )
    return rules


def _add_escalation_policy(
    draft: OrgDraft, team_name: str, team_ref: dict, sched_idx: list[int]
) -> dict:
    """The team's policy: 2 or 3 levels with per-level timeouts; returns its reference."""
    rng = draft.rng
    ep_id = draft.new_id()
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
                "id": draft.new_id(),
                "escalation_delay_in_minutes": delay // 60,
                "targets": [draft.schedule_info[s_i].ref],
                "escalation_rule_assignment_strategy": "assign_to_everyone",
            }
        )
    draft.eps.append(
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
    draft.ep_info.append(EscalationInfo(ref=ep_ref, levels=levels, num_loops=num_loops))
    for s_i, _ in levels:
        draft.schedules[s_i]["escalation_policies"].append(ep_ref)
    return ep_ref


def _integration(sid: str, integ_id: str, fmt: str) -> dict:
    """The reference of the service's integration; its vendor decides the alert format."""
    vendor = {
        "datadog": "Datadog",
        "nagios": "Nagios",
        "email": "Email",
        "cloudwatch": "Amazon CloudWatch",
        "grafana": "Grafana",
        "uptimerobot": "UptimeRobot",
    }.get(fmt, "Prometheus Alertmanager")
    integ_type = {
        "email": "generic_email_inbound_integration_reference",
        "cloudwatch": "aws_cloudwatch_inbound_integration_reference",
    }.get(fmt, "events_api_v2_inbound_integration_reference")
    return {
        "id": integ_id,
        "type": integ_type,
        "summary": vendor,
        "self": f"{API_BASE}/services/{sid}/integrations/{integ_id}",
        "html_url": f"{WEB_BASE}/services/{sid}/integrations/{integ_id}",
    }


def _add_service(draft: OrgDraft, sname_local: str, kind: str, suffix: str, team: tuple) -> int:
    """A service of a team (``team``: name, reference, index, policy reference); its index."""
    team_name, team_ref, team_index, ep_ref = team
    rng = draft.rng
    svc_name = f"{sname_local}-{suffix.lower()}" if suffix else sname_local
    sid = draft.new_id()
    sref = ref("service", sid, svc_name, "services", "service-directory")
    integ_id = draft.new_id()
    fmt = pick_format(rng, kind)
    integration = _integration(sid, integ_id, fmt)
    urgency = "low" if kind in ("ci", "observability") else "high"
    grouping = rng.choice(("time", "intelligent")) if rng.random() < 0.3 else None
    ack_timeout = rng.choice((1800, 1800, 3600, None))
    auto_resolve = rng.choice((None, None, None, 14400, 86400))
    created = draft.start - 400 * 86400  # objects existed long before the simulated period
    service = {
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
    if grouping:
        service["alert_grouping_parameters"] = (
            {"type": "time", "config": {"timeout": 5}}
            if grouping == "time"
            else {"type": "intelligent", "config": {"time_window": 300}}
        )
    draft.services.append(service)
    draft.eps[-1]["services"].append(sref)
    draft.service_info.append(
        ServiceInfo(
            index=len(draft.services) - 1,
            ref=sref,
            name=svc_name,
            kind=kind,
            team_index=team_index,
            ep_index=len(draft.eps) - 1,
            depends_on=[],
            dependents=[],
            urgency=urgency,
            acknowledgement_timeout=ack_timeout,
            auto_resolve_timeout=auto_resolve,
            grouping=grouping,
            integration=integration,
            source_format=fmt,
            namespace=sname_local.split("-")[0] + (f"-{suffix.lower()}" if suffix else ""),
            base_rate_per_day=math.exp(rng.gauss(math.log(0.5), 0.55)),
            host_prefix=sname_local,
        )
    )
    return len(draft.services) - 1


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
