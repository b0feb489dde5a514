"""The group_alerts recommendation: alert types that fire together grouped into one incident
(a PagerDuty alert grouping setting and an Alertmanager route)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from etl.noise.outputs import _slug
from etl.noise.replay import Replay
from etl.noise.rules import _evidence, _finish
from etl.noise.settings import NoiseSettings


def _group_recommendation(
    group: dict, members: pd.DataFrame, replay: Replay, settings: NoiseSettings
) -> list[dict]:
    """The group_alerts row of a group, from its member incidents."""
    members = members.sort_values(["created_at", "incident_id"])
    if members.empty:
        return []
    firsts = members.drop_duplicates("occurrence_id")
    removed = set(members["incident_id"]) - set(firsts["incident_id"])
    hidden_majors = members[
        members["incident_id"].isin(removed) & members["is_major"].fillna(False)
    ]
    # Address the team of the service that fires first most often (the likely root cause).
    root = (
        firsts["service_id"]
        .astype(str)
        .value_counts()
        .sort_index()
        .sort_values(ascending=False, kind="stable")
        .index[0]
    )
    owner = members[members["service_id"] == root].iloc[0]
    window = int(min(3600, max(300, np.ceil((group["p90_spread_seconds"] + 60) / 60) * 60)))
    services = sorted(set(members["service_id"]))
    snippet = _snippet(group, services, window, owner)
    evidence = _evidence(members, replay.config, settings) | {
        "group_occurrences": group["occurrences"],
        "services": services,
        "p50_spread_seconds": group["p50_spread_seconds"],
        "p90_spread_seconds": group["p90_spread_seconds"],
        "cohesion": group["cohesion"],
    }
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
        "config_snippet": snippet,
        "evidence": evidence,
    }
    risk = None
    if len(hidden_majors):
        risk = (
            f"{len(hidden_majors)} major incident(s) would have become alerts of another "
            "incident; keep their priority rules when grouping"
        )
    return [_finish(row, members, replay, removed, set(), len(hidden_majors), risk, settings)]


def _snippet(group: dict, services: list[str], window: int, owner: pd.Series) -> str:
    """The grouping as configuration: a PagerDuty alert grouping setting over the services
    and an Alertmanager route that groups the member alerts, sent to the owner's team."""
    alertnames = sorted(
        {
            m.group(1)
            for t in group["templates"]
            if (m := re.match(r"\[FIRING:<\*>\]\s*([A-Za-z][\w]*)", t))
        }
    )
    pd_setting = {
        "alert_grouping_setting": {
            "name": f"pagerlens group {group['group_id']}",
            "type": "intelligent",
            "config": {"time_window": window},
            "services": [{"id": s, "type": "service_reference"} for s in services],
        }
    }
    matcher = (
        f'alertname=~"{"|".join(alertnames)}"' if alertnames else "<labels common to these alerts>"
    )
    yaml = "\n".join(
        [
            "route:",
            "  routes:",
            f"    - receiver: pagerduty-{_slug(owner['team_name'] or owner['team_id'] or 'team')}",
            "      matchers:",
            f"        - {json.dumps(matcher)}",
            "      group_by: ['...']",
            "      group_wait: 30s",
            f"      group_interval: {window // 60}m",
            "      # member alerts (templates):",
            *[f"      #   {json.dumps(t)}" for t in group["templates"]],
        ]
    )
    return (
        "# PagerDuty (POST /alert_grouping_settings)\n"
        + json.dumps(pd_setting, indent=2)
        + "\n# Alertmanager\n"
        + yaml
        + "\n"
    )
