"""The recommendation rules of one alert type (template on a service): maintenance window,
pause transient alerts, stop paging; each returns the incidents it would remove or demote and
its row (evidence, configuration snippet), or None."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from etl.config import Config
from etl.noise.advice import (
    MAINTENANCE_OCCURRENCES,
    maintenance_artifacts,
    maintenance_starts,
    mute_artifacts,
    render,
    service_update,
    stop_paging_artifacts,
    window_suppress_artifact,
)
from etl.noise.existing import ExistingConfig, already_on
from etl.noise.replay import Replay
from etl.noise.settings import NoiseSettings
from etl.noise.templates import template_id
from etl.noise.weekly_windows import SLOTS_PER_WEEK, maintenance_windows

# PagerDuty's allowed auto-pause timeouts (AutoPauseNotificationsParameters.timeout).
AUTO_PAUSE_TIMEOUTS = (120, 180, 300, 600, 900)


def _rule_candidates(frame: pd.DataFrame, settings: NoiseSettings) -> pd.DataFrame:
    """Per incident, whether its alert type (template, service) can pass each rule: at least
    ``min_incidents`` incidents and the rule's necessary condition (a transient share for
    pause_transient, a never-acknowledged share for stop_paging, a weekly window its ignored
    incidents crowd beyond chance for maintenance_window:
    :func:`~etl.noise.weekly_windows.maintenance_windows`, whose window columns come along),
    computed for every alert type at once. The rules themselves then run only where they can
    yield a row."""
    keys = [frame["template_id"], frame["service_id"].fillna("")]
    by_key = frame.groupby(keys, sort=False, dropna=False, observed=True)
    size = by_key["incident_id"].transform("size").to_numpy()
    transient = frame["noise_reason"].eq("transient").groupby(keys, dropna=False, observed=True)
    never = frame["never_acked"].groupby(keys, dropna=False, observed=True)
    windows = maintenance_windows(frame, settings)
    enough = size >= settings.min_incidents
    return pd.DataFrame(
        {
            "maintenance_window": enough & windows["maintenance_slots"].gt(0).to_numpy(),
            "pause_transient": enough
            & (transient.transform("mean").to_numpy() >= settings.transient_share),
            "stop_paging": enough
            & (never.transform("mean").to_numpy() >= settings.never_acked_share),
        },
        index=frame.index,
    ).join(windows)


def _evidence(part: pd.DataFrame, config: Config, settings: NoiseSettings) -> dict:
    quick = part["auto_resolved"].fillna(False) & (
        part["seconds_to_resolve"] <= config.transient_seconds
    )
    # The latest incidents, in the order sorting the whole part would give, taken from the
    # three columns shown only (a part is ~30 columns wide; even a frame of the three cost
    # 1 ms per recommendation).
    order = part["created_at"].reset_index(drop=True).sort_values().index.to_numpy()
    latest = order[max(len(order) - settings.examples, 0) :]
    return {
        "incidents": int(len(part)),
        "alerts": int(part["alert_count"].sum()),
        "first_seen": part["created_at"].min().isoformat(),
        "last_seen": part["created_at"].max().isoformat(),
        "auto_resolved_within_seconds": config.transient_seconds,
        "share_auto_resolved_within": round(float(quick.mean()), 4),
        "share_never_acknowledged": round(float(part["first_ack_at"].isna().mean()), 4),
        "share_flapping": round(float(part["is_flapping"].mean()), 4),
        "sleep_hour_pages": int(part["sleep_interruptions"].sum()),
        "notifications": int(part["total_notifications"].fillna(0).sum()),
        "example_incidents": [
            {"incident_id": incident_id, "html_url": html_url, "created_at": created.isoformat()}
            for incident_id, html_url, created in zip(
                part["incident_id"].array.take(latest),
                part["html_url"].array.take(latest),
                part["created_at"].array[latest],
                strict=True,
            )
        ],
    }


def _base(
    part: pd.DataFrame,
    kind: str,
    title: str,
    artifacts: list[dict],
    config: Config,
    settings: NoiseSettings,
) -> dict:
    first = part.iloc[0]
    return {
        "kind": kind,
        "team_id": first["team_id"],
        "team_name": first["team_name"],
        "service_id": first["service_id"],
        "service_name": first["service_name"],
        "template_id": first["template_id"],
        "template": first["template"],
        "group_id": None,
        "title": title,
        "config_snippet": render(artifacts),
        "config_artifacts": json.dumps(artifacts, ensure_ascii=False),
        "evidence": _evidence(part, config, settings),
    }


def _pause_transient(
    part: pd.DataFrame, config: Config, settings: NoiseSettings, existing: ExistingConfig
):
    transient = part["noise_reason"].eq("transient")
    if transient.mean() < settings.transient_share:
        return None
    # The shortest auto-pause timeout PagerDuty offers that would have caught 90% of them.
    p90 = float(part.loc[transient, "seconds_to_resolve"].quantile(0.9))
    timeout = next((t for t in AUTO_PAUSE_TIMEOUTS if t >= p90), AUTO_PAUSE_TIMEOUTS[-1])
    current = existing.auto_pause(part.iloc[0]["service_id"])
    if current is not None:
        # Auto-pause is on: its timeout is the owner's choice; ours is shown, not proposed.
        shown = f"{current} s" if current else "PagerDuty's default timeout"
        return already_on(
            part.iloc[0],
            "pause_transient",
            f"auto-pause is on ({shown})",
            f"auto-pause {timeout} s ({transient.mean():.0%} of the incidents are transient)",
        )
    caught = part.loc[
        part["auto_resolved"].fillna(False)
        & part["first_ack_at"].isna()
        & (part["seconds_to_resolve"] <= timeout),
        "incident_id",
    ]
    artifacts = [
        service_update(
            part,
            {"auto_pause_notifications_parameters": {"enabled": True, "timeout": timeout}},
            f"Service settings: hold alerts {timeout} s before notifying; those that resolve "
            "within it never page.",
        )
    ]
    title = (
        f"Auto-pause transient alerts for {timeout // 60} min: "
        f"{transient.mean():.0%} of these incidents resolve on their own"
    )
    row = _base(part, "pause_transient", title, artifacts, config, settings)
    row["evidence"]["auto_pause_timeout_seconds"] = timeout
    return set(caught), set(), row


def _stop_paging(
    part: pd.DataFrame, config: Config, settings: NoiseSettings, existing: ExistingConfig
):
    never = part["first_ack_at"].isna().mean()
    if never < settings.never_acked_share:
        return None
    if existing.low_urgency(part.iloc[0]["service_id"]):
        return already_on(
            part.iloc[0],
            "stop_paging",
            "the service's urgency rule is constant low urgency: it pages nobody",
            f"stop paging ({never:.0%} never acknowledged)",
        )
    title = f"Stop paging: {never:.0%} of these incidents were never acknowledged"
    first = part.iloc[0]
    artifacts = stop_paging_artifacts(
        part, _constant_part(first["template"]), title, first["team_name"] or first["team_id"]
    )
    row = _base(part, "stop_paging", title, artifacts, config, settings)
    return set(), set(part["incident_id"]), row


def _maintenance(
    part: pd.DataFrame, config: Config, settings: NoiseSettings, existing: ExistingConfig
):
    """A recurring weekly window (:func:`~etl.noise.weekly_windows.maintenance_windows`) whose
    incidents nobody acknowledged, in the account's time zone: the alert type's own weekly
    Event Orchestration rule, PagerDuty maintenance windows for the whole service instead, and
    an Alertmanager mute for Alertmanager alerts."""
    first = int(part["maintenance_first"].iloc[0])
    length = int(part["maintenance_slots"].iloc[0])
    slots = [(first + i) % SLOTS_PER_WEEK for i in range(length)]
    last = slots[-1]
    slot_of = part["week_slot"].to_numpy()
    in_slot = pd.Series(np.isin(slot_of, slots), index=part.index)
    ignored = part.loc[in_slot, "first_ack_at"].isna().mean()
    if ignored < settings.maintenance_ignored_share:
        return None
    weeks = part.loc[in_slot, "week"].nunique()
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    end = (last + 1) % SLOTS_PER_WEEK

    def clock(slot: int) -> str:
        return f"{(slot % 48) // 2:02d}:{30 * (slot % 2):02d}"

    rule = f"weekly {days[first // 48]} {clock(first)}-{clock(end)} {config.account_time_zone}"
    windows = maintenance_starts(
        part["created_at"].max(),
        first // 48,
        30 * (first % 48),
        30 * len(slots),
        config.account_time_zone,
        MAINTENANCE_OCCURRENCES,
    )
    first_row = part.iloc[0]
    # An occurrence overlapping a window the service already has in PagerDuty is not proposed.
    free = [w for w in windows if not existing.booked(first_row["service_id"], *w)]
    if not free:
        return already_on(
            first_row,
            "maintenance_window",
            f"maintenance windows already booked over all {len(windows)} proposed occurrences",
            f"maintenance window {rule}",
        )
    # The alert type's own weekly rule first: what the replay counts (its incidents in the
    # window). PagerDuty's maintenance windows silence the whole service, once each.
    artifacts = [
        window_suppress_artifact(
            str(first_row["service_id"]),
            _constant_part(first_row["template"]),
            f"weekly window {rule}",
            first // 48,
            30 * (first % 48),
            30 * len(slots),
            config.account_time_zone,
        )
    ]
    artifacts += maintenance_artifacts(
        str(first_row["service_id"]), free, rule, _described(first_row["template"])
    )
    artifacts += mute_artifacts(
        first_row["template"],
        first // 48,
        30 * (first % 48),
        30 * len(slots),
        config.account_time_zone,
        first_row["team_name"] or first_row["team_id"],
    )
    title = f"Maintenance window {rule}: {in_slot.sum()} ignored incidents in {weeks} weeks"
    row = _base(part, "maintenance_window", title, artifacts, config, settings)
    row["evidence"]["window"] = rule
    row["evidence"]["incidents_in_window"] = int(in_slot.sum())
    row["evidence"]["chance_of_window"] = float(f"{part['maintenance_chance'].iloc[0]:.3g}")
    row["evidence"]["occurrences_already_booked"] = len(windows) - len(free)
    row["evidence"]["existing_maintenance_windows"] = existing.windows_unknown or (
        f"{len(existing.windows.get(str(first_row['service_id']), []))} synced window(s) "
        "of the service checked"
    )
    return set(part.loc[in_slot, "incident_id"]), set(), row


# Left at a piece's edges when a template is cut at its placeholders: "[FIRING:<*>] X" gives
# "] X"; stripped so the piece reads as text (it stays a substring of every summary).
_EDGE = " \t\r\n[](){}<>:;,|-=\"'"


def _constant_part(template: str) -> str:
    """The longest constant piece of a template, without the brackets and punctuation its
    cut left at the edges: what an Event Orchestration ``matches part`` condition looks for."""
    pieces = [p.strip(_EDGE) for p in str(template).split("<*>")]
    longest = max(pieces, key=len) if pieces else ""
    return longest or str(template).strip()


def _described(template: str) -> str:
    """The template as a person reads it (maintenance window descriptions): the whole text,
    each placeholder shown as an ellipsis."""
    text = " ".join(str(template).replace("<*>", "…").split())
    return text or "(empty alert text)"


def _finish(
    row: dict,
    part: pd.DataFrame,
    replay: Replay,
    removed: set[str],
    demoted: set[str],
    majors: int,
    risk: str | None,
    settings: NoiseSettings,
) -> dict:
    figures = replay.run(removed, demoted)
    identity = f"{row['kind']}|{row['service_id']}|{row['template_id']}|{row['group_id']}"
    return (
        row
        | figures
        | {
            "recommendation_id": "R" + template_id(identity)[:12],
            "evidence": json.dumps(row["evidence"], default=str),
            "replay_start": replay.start,
            "replay_end": replay.end,
            "major_incidents_affected": majors,
            "risk": risk or "none",
        }
    )
