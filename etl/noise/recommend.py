"""The recommendations table: every rule over every alert type and group, with the replayed
counterfactual of each change."""

from __future__ import annotations

import logging

import pandas as pd

from etl.config import Config
from etl.noise.existing import AlreadyOn, ExistingConfig, already_on, rule_text
from etl.noise.group_rule import _group_recommendation
from etl.noise.outputs import RECOMMENDATION_COLUMNS, _by_group
from etl.noise.replay import Replay
from etl.noise.rules import (
    _finish,
    _maintenance,
    _pause_transient,
    _rule_candidates,
    _stop_paging,
)
from etl.noise.settings import NoiseSettings
from etl.noise.weekly_windows import weekly_clock

log = logging.getLogger(__name__)


def build_recommendations(
    incidents: pd.DataFrame,
    notifications: pd.DataFrame | None,
    grouping,
    config: Config,
    settings: NoiseSettings,
    existing: ExistingConfig | None = None,
    already: list[AlreadyOn] | None = None,
) -> pd.DataFrame:
    """One row per recommendation, with evidence, snippet and replayed counterfactual.

    ``notifications``: the replay period's notifications (``noise_notifications.sql``).
    The rules run only on the alert types (template and service) that can pass one of them
    (:func:`_rule_candidates`); the others cannot yield a row.

    ``existing``: the account's PagerDuty configuration; a rule whose setting is already on
    proposes nothing, is appended to ``already`` (when given) and the next rule is tried.
    """
    existing = existing or ExistingConfig()
    already = [] if already is None else already
    if incidents.empty:
        return pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
    replay = Replay(incidents, notifications, config, settings.replay_weeks)
    rows: list[dict] = []
    frame = incidents.assign(
        never_acked=incidents["first_ack_at"].isna(), **weekly_clock(incidents, config)
    )
    rules = _rule_candidates(frame, settings)
    candidates = frame[rules.any(axis=1).to_numpy()].join(rules)
    candidates = candidates.assign(
        key=candidates["template_id"].astype(str) + "|" + candidates["service_id"].astype(str)
    )
    for key, part in candidates.groupby("key", sort=True):
        row = _first_rule(part, config, settings, existing, already)
        if row is None:
            continue
        removed, demoted, row = row
        row["evidence"] |= existing.evidence([row["service_id"]])
        # The few major incidents looked up in the (large) sets, not the sets in the column.
        hidden = removed | demoted
        majors = [i for i in part.loc[part["is_major"].fillna(False), "incident_id"] if i in hidden]
        if majors:
            # A change that would hide or silence a major incident is not recommended.
            log.info(
                "recommendation %s for %s dropped: would hide %d major incidents",
                row["kind"],
                key,
                len(majors),
            )
            continue
        rows.append(_finish(row, part, replay, removed, demoted, 0, None, settings))
    grouped = _by_group(frame)
    for group in grouping.groups.to_dict("records"):
        # One co-firing is an anecdote; a grouping rule needs the pattern to repeat.
        if group["occurrences"] >= settings.min_group_occurrences:
            members = grouped.get(group["group_id"], frame.iloc[:0])
            for row in _group_recommendation(group, members, replay, settings, existing):
                (already if isinstance(row, AlreadyOn) else rows).append(row)
    result = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    return result.sort_values(
        ["team_id", "pages_saved", "recommendation_id"],
        ascending=[True, False, True],
        na_position="last",
    ).reset_index(drop=True)


RULES = (
    ("maintenance_window", _maintenance),
    ("pause_transient", _pause_transient),
    ("stop_paging", _stop_paging),
)


def _first_rule(
    part: pd.DataFrame,
    config: Config,
    settings: NoiseSettings,
    existing: ExistingConfig,
    already: list[AlreadyOn],
):
    """The first rule that yields a change for this alert type (in :data:`RULES` order); a
    rule whose setting the service already has goes to ``already``."""
    can = part.iloc[0]
    for name, rule in RULES:
        if not can[name]:
            continue
        found = rule(part, config, settings, existing)
        if isinstance(found, AlreadyOn):
            already.append(found)
        elif found is not None:
            covered = _orchestrated(part, name, found[2]["title"], existing)
            if covered is None:
                return found
            already.append(covered)
            if covered.suppressed:
                return None  # no incident is opened: no other change applies either
    return None


def _orchestrated(part: pd.DataFrame, kind: str, proposed: str, existing: ExistingConfig):
    """The already-on row when an Event Orchestration rule of the service already does
    what the ``kind`` recommendation would for every incident of this alert type."""
    first = part.iloc[0]
    if not existing.orchestration_rules.get(str(first["service_id"])):
        return None  # no rule to look at: the summaries below are not needed
    # The event's summary (the first alert's, else the title): what event.summary reads.
    found = [existing.summaries.get(str(i)) for i in part["incident_id"]]
    titles = [t for t in found if t is not None]
    rule = existing.orchestrated(first["service_id"], titles, kind)
    if rule is None:
        return None
    evidence = {
        "event_orchestration_rule": {
            key: rule.get(key) for key in ("set_id", "rule_id", "label", "conditions", "actions")
        },
        "orchestration_updated_at": rule.get("orchestration_updated_at"),
        "incidents": int(len(part)),
    }
    row = already_on(first, kind, rule_text(rule), proposed, evidence)
    row.suppressed = bool(rule.get("suppress") or rule.get("drop_event"))
    return row
