"""The group_alerts recommendation: alert types that fire together grouped into one incident
(a PagerDuty alert grouping setting and an Alertmanager route)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from etl.noise.advice import (
    group_artifacts,
    render,
)
from etl.noise.existing import ExistingConfig, already_on
from etl.noise.replay import Replay
from etl.noise.rules import _evidence, _finish
from etl.noise.settings import NoiseSettings


def _addressed_service(supporting, members: pd.DataFrame, firsts: pd.DataFrame) -> str:
    """The service whose team a group's recommendation goes to: the supporting service when
    the service graph found the group (and it paged in an occurrence), else the service that
    fires first most often (the likely root cause)."""
    if isinstance(supporting, str) and supporting in set(members["service_id"].astype(str)):
        return supporting
    return (
        firsts["service_id"]
        .astype(str)
        .value_counts()
        .sort_index()
        .sort_values(ascending=False, kind="stable")
        .index[0]
    )


def _group_recommendation(
    group: dict,
    members: pd.DataFrame,
    replay: Replay,
    settings: NoiseSettings,
    existing: ExistingConfig | None = None,
) -> list[dict]:
    """The group_alerts row of a group, from its member incidents; an already-on row instead
    when every member service already groups its alerts (PagerDuty groups per service, so a
    service without grouping still gains from the setting)."""
    existing = existing or ExistingConfig()
    members = members.sort_values(["created_at", "incident_id"])
    if members.empty:
        return []
    firsts = members.drop_duplicates("occurrence_id")
    removed = set(members["incident_id"]) - set(firsts["incident_id"])
    hidden_majors = members[
        members["incident_id"].isin(removed) & members["is_major"].fillna(False)
    ]
    supporting = group.get("root_service_id")
    root = _addressed_service(supporting, members, firsts)
    owner = members[members["service_id"].astype(str) == root].iloc[0]
    window = int(min(3600, max(300, np.ceil((group["p90_spread_seconds"] + 60) / 60) * 60)))
    services = sorted(set(members["service_id"]))
    grouping = {str(s): existing.grouping(s) for s in services}
    if all(grouping.values()):
        return [_already_grouping(group, owner, grouping)]
    # The alert type that opens an occurrence most often: the storm's root.
    root_template = (
        firsts["template"].astype(str).value_counts().sort_index().idxmax()
        if "template" in firsts
        else None
    )
    artifacts = group_artifacts(
        group, services, window, owner["team_name"] or owner["team_id"], root_template
    )
    evidence = _evidence(members, replay.config, settings) | {
        "group_occurrences": group["occurrences"],
        "services": services,
        "p50_spread_seconds": group["p50_spread_seconds"],
        "p90_spread_seconds": group["p90_spread_seconds"],
        "cohesion": group["cohesion"],
    }
    if isinstance(supporting, str):
        # The account's own Service Graph says these services depend on that one.
        evidence["service_graph"] = {"supporting_service_id": supporting}
    evidence |= existing.evidence(services)
    if any(grouping.values()):
        evidence["services_already_grouping"] = {s: g for s, g in grouping.items() if g}
    row = {
        "kind": "group_alerts",
        "team_id": owner["team_id"],
        "team_name": owner["team_name"],
        "service_id": root,
        "service_name": owner["service_name"],
        "template_id": None,
        "template": " | ".join(group["templates"]),
        "group_id": group["group_id"],
        "title": (
            f"Group {group['alert_types']} alert types across {len(services)} services "
            f"into one incident: they fired together {group['occurrences']} times"
        ),
        "config_snippet": render(artifacts),
        "config_artifacts": json.dumps(artifacts, ensure_ascii=False),
        "evidence": evidence,
    }
    risk = None
    if len(hidden_majors):
        risk = (
            f"{len(hidden_majors)} major incident(s) would have become alerts of another "
            "incident; keep their priority rules when grouping"
        )
    return [_finish(row, members, replay, removed, set(), len(hidden_majors), risk, settings)]


def _already_grouping(group: dict, owner: pd.Series, grouping: dict[str, str | None]):
    """The already-on row of a group whose every member service groups its alerts."""
    configured = "; ".join(f"{s}: {g}" for s, g in grouping.items())
    first = owner.copy()
    first["group_id"] = group["group_id"]
    first["template"] = " | ".join(group["templates"])
    first["template_id"] = None
    return already_on(
        first,
        "group_alerts",
        f"every member service already groups alerts ({configured})",
        f"group {group['alert_types']} alert types across {len(grouping)} services",
    )
