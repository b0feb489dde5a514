"""The recommendation rules of one alert type (template on a service): maintenance window,
pause transient alerts, stop paging; each returns the incidents it would remove or demote and
its row (evidence, configuration snippet), or None."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy.stats import poisson

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
from etl.noise.flapping import BUSYNESS_PRIOR
from etl.noise.replay import Replay
from etl.noise.settings import NoiseSettings
from etl.noise.templates import template_id

# PagerDuty's allowed auto-pause timeouts (AutoPauseNotificationsParameters.timeout).
AUTO_PAUSE_TIMEOUTS = (120, 180, 300, 600, 900)


SLOTS_PER_WEEK = 7 * 48  # half-hour slots: maintenance windows often end at :30
WINDOW_MAX_SLOTS = 8  # a maintenance window is at most 4 hours long
# Windows tested per alert type (every start and length): the Bonferroni factor of its chance.
WINDOWS_PER_TYPE = SLOTS_PER_WEEK * WINDOW_MAX_SLOTS


def _weekly_clock(incidents: pd.DataFrame, config: Config) -> dict[str, np.ndarray]:
    """Each incident's half hour of the week (0 = Monday 00:00-00:30), its week (weeks since
    1970 starting on Monday) and its half hour since then, in the account's time zone: what
    maintenance windows are found in."""
    local = incidents["created_at"].dt.tz_convert(config.account_time_zone)
    slot = local.dt.day_of_week * 48 + local.dt.hour * 2 + local.dt.minute // 30
    days = (local.dt.tz_localize(None) - pd.Timestamp("1970-01-05")).dt.days
    # -1: no creation time (a data issue); such an incident is in no slot and no week.
    return {
        "week_slot": slot.fillna(-1).to_numpy(np.int64),
        "week": (days // 7).fillna(-1).to_numpy(np.int64),
        "half_hour": (days * 48 + slot % 48).fillna(-1).to_numpy(np.int64),
    }


def _rule_candidates(frame: pd.DataFrame, settings: NoiseSettings) -> pd.DataFrame:
    """Per incident, whether its alert type (template, service) can pass each rule: at least
    ``min_incidents`` incidents and the rule's necessary condition (a transient share for
    pause_transient, a never-acknowledged share for stop_paging, a weekly window its ignored
    incidents crowd beyond chance for maintenance_window: :func:`_maintenance_windows`, whose
    window columns come along), computed for every alert type at once. The rules themselves
    then run only where they can yield a row."""
    keys = [frame["template_id"], frame["service_id"].fillna("")]
    by_key = frame.groupby(keys, sort=False, dropna=False, observed=True)
    size = by_key["incident_id"].transform("size").to_numpy()
    transient = frame["noise_reason"].eq("transient").groupby(keys, dropna=False, observed=True)
    never = frame["never_acked"].groupby(keys, dropna=False, observed=True)
    windows = _maintenance_windows(frame, settings)
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


def _slot_weights(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per half hour of the week: how many times it occurs in the synced history (first to
    last incident, account zone), and that exposure weighted by how busy the account is then
    (its incidents that are not transient per hour of the day, weekdays and weekends apart,
    shrunk toward its average by ``BUSYNESS_PRIOR`` incidents, as flapping reads busyness)."""
    timed = frame["half_hour"].to_numpy()
    timed = timed[timed >= 0]
    occurs = np.bincount(
        np.arange(timed.min(), timed.max() + 1) % SLOTS_PER_WEEK, minlength=SLOTS_PER_WEEK
    ).astype(float)
    slot = np.arange(SLOTS_PER_WEEK)
    hour = (slot % 48) // 2 + 24 * (slot // 48 >= 5)
    calm = frame["week_slot"].ge(0) & ~frame["noise_reason"].eq("transient")
    seen = np.bincount(hour[frame.loc[calm, "week_slot"].to_numpy()], minlength=48)
    expected = calm.sum() * np.bincount(hour, weights=occurs, minlength=48) / occurs.sum()
    busy = (seen + BUSYNESS_PRIOR) / (expected + BUSYNESS_PRIOR)
    return occurs, occurs * busy[hour]


def _maintenance_windows(frame: pd.DataFrame, settings: NoiseSettings) -> pd.DataFrame:
    """Per incident, the weekly window of its alert type (columns ``maintenance_first``: its
    first half hour of the week, ``maintenance_slots``: its length in half hours, 0 when there
    is none, ``maintenance_chance``): of the windows of 1 to ``WINDOW_MAX_SLOTS`` half hours
    that hold its ignored incidents beyond chance (:func:`_unlikely_windows`), the least
    likely one whose ignored incidents fall in ``maintenance_min_weeks`` distinct weeks (two
    sightings are not yet a weekly habit: a history shorter than that proposes no window).
    Flapping incidents are left out: a flapping burst is one event, not a weekly habit."""
    first_of = np.zeros(len(frame), np.int64)
    slots_of = np.zeros(len(frame), np.int64)
    chance_of = np.zeros(len(frame))

    def found() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "maintenance_first": first_of,
                "maintenance_slots": slots_of,
                "maintenance_chance": chance_of,
            },
            index=frame.index,
        )

    alert_type = frame.groupby(
        [frame["template_id"], frame["service_id"].fillna("")],
        sort=False,
        dropna=False,
        observed=True,
    ).ngroup()
    counted = (
        frame["week_slot"].ge(0).to_numpy()
        & ~frame["is_flapping"].fillna(False).astype(bool).to_numpy()
        & alert_type.map(alert_type.value_counts()).ge(settings.min_incidents).to_numpy()
    )
    ignored = frame["never_acked"].to_numpy(bool)
    rows = np.flatnonzero(counted)
    codes, types = pd.factorize(alert_type.to_numpy()[rows])
    if not len(types) or not ignored[rows].any():
        return found()
    slot = frame["week_slot"].to_numpy()[rows]
    every = np.zeros((len(types), SLOTS_PER_WEEK))
    np.add.at(every, (codes, slot), 1)
    quiet = np.zeros_like(every)
    np.add.at(quiet, (codes[ignored[rows]], slot[ignored[rows]]), 1)
    occurs, weight = _slot_weights(frame)
    week = frame["week"].to_numpy()[rows]
    quiet_row = ignored[rows]
    # Each type's rows, found once (a type may have many candidate windows).
    by_type = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[by_type], np.arange(len(types) + 1))
    type_of_row = alert_type.to_numpy()
    chosen: set[int] = set()
    for chance, code, first, length in _unlikely_windows(every, quiet, occurs, weight, settings):
        if code in chosen:
            continue
        window = (first + np.arange(length)) % SLOTS_PER_WEEK
        mine = by_type[bounds[code] : bounds[code + 1]]
        inside = mine[np.isin(slot[mine], window) & quiet_row[mine]]
        if len(np.unique(week[inside])) < settings.maintenance_min_weeks:
            continue
        chosen.add(code)
        # Every incident of the type, its flapping ones too: the rule reads the type's first.
        hit = type_of_row == types[code]
        first_of[hit], slots_of[hit], chance_of[hit] = first, length, chance
    return found()


def _unlikely_windows(
    every: np.ndarray,
    quiet: np.ndarray,
    occurs: np.ndarray,
    weight: np.ndarray,
    settings: NoiseSettings,
) -> list[tuple[float, int, int, int]]:
    """(chance, alert type, first half hour, length) of every weekly window that holds an
    alert type's never-acknowledged incidents (``quiet``, per type and half hour of the week)
    beyond chance, least likely first. Chance: that a Poisson count reaches the window's and
    spreads over ``maintenance_min_weeks`` distinct weeks (:func:`_spread_chance`, what the
    rule asks of a window), the count's mean the larger of the type's ignored incidents at its
    own rate spread over the week as the account is busy (``weight``), and at its rate in the
    same half hours on the other six days (a type that fires every afternoon does not make a
    Tuesday-afternoon window); the window needs at least two ignored incidents, as many as
    ``maintenance_min_weeks`` and at least ``maintenance_ignored_share`` of its incidents
    (``every``), a history in which it recurs that many weeks, and a chance below
    ``maintenance_alpha`` over ``WINDOWS_PER_TYPE`` windows."""
    total = quiet.sum(axis=1, keepdims=True)
    share = weight / weight.sum()
    clock = np.arange(SLOTS_PER_WEEK) % 48
    # Per half hour, the same clock time on the other six days (its type's count, its exposure).
    other = quiet.reshape(len(quiet), 7, 48).sum(axis=1)[:, clock] - quiet
    other_occurs = np.bincount(clock, weights=occurs, minlength=48)[clock] - occurs
    weeks = settings.maintenance_min_weeks
    limit = settings.maintenance_alpha / WINDOWS_PER_TYPE
    found = []
    held, seen, rate_share, exposure, other_held, other_exposure = (0,) * 6
    for length in range(1, WINDOW_MAX_SLOTS + 1):
        # A window of `length` from each half hour: the shorter one plus its next half hour.
        step = 1 - length
        held = held + np.roll(quiet, step, axis=-1)
        seen = seen + np.roll(every, step, axis=-1)
        rate_share = rate_share + np.roll(share, step)
        exposure = exposure + np.roll(occurs, step)
        other_held = other_held + np.roll(other, step, axis=-1)
        other_exposure = other_exposure + np.roll(other_occurs, step)
        expected = np.maximum(
            total * rate_share, other_held / np.maximum(other_exposure, 1) * exposure
        )
        # The times each window recurs in the history: the weeks its incidents can spread over.
        recurs = np.rint(exposure / length).astype(np.int64)
        possible = (
            (held >= max(2, weeks))
            & (held >= settings.maintenance_ignored_share * seen)
            & (recurs >= weeks)
        )
        code, first = np.nonzero(possible)
        count = held[code, first].astype(np.int64)
        chance = _spread_chance(count, expected[code, first], recurs[first], weeks, limit)
        for k in np.flatnonzero(chance < limit):
            found.append((float(chance[k]), int(code[k]), int(first[k]), length))
    return sorted(found)


# Terms of the count summed exactly in _spread_chance; beyond them the spread is taken as
# certain (an upper bound: the chance is never understated).
_SPREAD_TERMS = 30


def _spread_chance(
    count: np.ndarray, expected: np.ndarray, recurs: np.ndarray, weeks: int, limit: float
) -> np.ndarray:
    """Per window, the chance that a Poisson count of mean ``expected`` is at least ``count``
    and its incidents fall in at least ``weeks`` distinct weeks of the ``recurs`` the window
    occurs in (each incident in any of them alike): sum over n >= count of P(N = n) times the
    chance that n incidents cover ``weeks`` weeks (:func:`_week_cover`). The rule asks both of
    a window, and chance seldom gives both: four incidents at random in three weeks cover all
    three 44 % of the time, while a maintenance window's recur every week. Windows that cannot
    end under ``limit`` are not summed; their chance is returned as the Poisson tail alone,
    which is not under it either."""
    chance = poisson.sf(count - 1, expected)
    if not len(count):
        return chance
    # The spread's chance grows with the count, so tail x cover(count) bounds the sum below:
    # only windows under the limit by that bound can end under it.
    for times in np.unique(recurs):
        cover = _week_cover(int(times), weeks, int(count.max()) + _SPREAD_TERMS)
        at = np.flatnonzero((recurs == times) & (chance * cover[count] < limit))
        n, mean = count[at], expected[at]
        total = poisson.sf(n + _SPREAD_TERMS - 1, mean)
        for extra in range(_SPREAD_TERMS):
            total += poisson.pmf(n + extra, mean) * cover[n + extra]
        chance[at] = total
    return chance


def _week_cover(recurs: int, weeks: int, most: int) -> np.ndarray:
    """For n = 0..``most`` incidents each in one of ``recurs`` weeks (alike), the chance
    that they fall in at least ``weeks`` distinct weeks (the occupancy distribution, one
    incident at a time)."""
    if weeks <= 0:
        return np.ones(most + 1)
    cover = np.zeros(most + 1)
    if recurs < weeks:
        return cover
    occupied = np.zeros(recurs + 1)  # P(d distinct weeks so far)
    occupied[0] = 1.0
    d = np.arange(recurs + 1)
    for n in range(1, most + 1):
        new = occupied * d / recurs
        new[1:] += occupied[:-1] * (recurs - d[1:] + 1) / recurs
        occupied = new
        cover[n] = occupied[weeks:].sum()
    return cover


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
    """A recurring weekly window (:func:`_maintenance_windows`) whose incidents nobody
    acknowledged, in the account's time zone."""
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
