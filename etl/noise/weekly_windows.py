"""Weekly maintenance windows found in an alert type's history: each incident's half hour of
the week, and the windows of one to four hours that hold its ignored incidents beyond chance
(docs/grouping.md, "Maintenance windows by a chance test" and "A window's chance counts its
weeks"). The maintenance_window rule (:mod:`etl.noise.rules`) turns one into advice."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from etl.config import Config
from etl.noise.flapping import BUSYNESS_PRIOR
from etl.noise.settings import NoiseSettings

SLOTS_PER_WEEK = 7 * 48  # half-hour slots: maintenance windows often end at :30
WINDOW_MAX_SLOTS = 8  # a maintenance window is at most 4 hours long
# Windows tested per alert type (every start and length): the Bonferroni factor of its chance.
WINDOWS_PER_TYPE = SLOTS_PER_WEEK * WINDOW_MAX_SLOTS


def weekly_clock(incidents: pd.DataFrame, config: Config) -> dict[str, np.ndarray]:
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


def maintenance_windows(frame: pd.DataFrame, settings: NoiseSettings) -> pd.DataFrame:
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
