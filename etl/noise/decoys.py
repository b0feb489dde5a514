"""Decoy histories and the false-discovery cut-off they calibrate: every service's incidents
moved in time by seeded whole days, so its own rhythm stays and its links to other services
break (docs/grouping.md, section 3)."""

from __future__ import annotations

import numpy as np


def _decoy_cutoff(
    real_chance: np.ndarray, decoy_chances: list[np.ndarray], max_ratio: float
) -> tuple[float, float | None]:
    """The loosest chance cut-off at which the decoy candidates passing (mean over the decoys)
    are at most ``max_ratio`` times the real ones passing, tried at the real candidates' own
    chances (all arrays sorted ascending), and the decoy count passing there. ``(-1.0, None)``
    (nothing passes) when no decoy was made, there is no real candidate, or none qualifies."""
    if not decoy_chances or not len(real_chance):
        return -1.0, None
    real_passing = np.searchsorted(real_chance, real_chance, side="right")
    decoy_passing = np.mean(
        [np.searchsorted(d, real_chance, side="right") for d in decoy_chances], axis=0
    )
    ok = np.flatnonzero(decoy_passing <= max_ratio * real_passing)
    if not len(ok):
        return -1.0, None
    return float(real_chance[ok[-1]]), float(decoy_passing[ok[-1]])


def _decoy_times(times: np.ndarray, group_of_row: np.ndarray, seed: int) -> np.ndarray | None:
    """``times`` with every group moved by its own seeded whole number of days (1 to
    days - 1), wrapped within the history's whole days (UTC): hour of day and rate stay,
    cross-group timing is broken. ``None`` when the history spans under two days."""
    day = 86400.0
    start = np.floor(times.min() / day) * day
    days = int((times.max() - start) // day) + 1
    if days < 2:
        return None
    rng = np.random.default_rng(seed)
    shifts = rng.integers(1, days, size=int(group_of_row.max()) + 1)
    return start + np.mod(times - start + shifts[group_of_row] * day, days * day)


def _decoy_days(times: np.ndarray, group_of_row: np.ndarray, seed: int) -> np.ndarray | None:
    """``times`` with every group's days permuted cyclically *within their day type*
    (weekdays among weekdays, weekend days among weekend days, UTC days), by the group's own
    seeded shift: hour of day, rate and weekday / weekend profile stay, cross-group timing is
    broken. (A whole-day shift moves weekday pages onto weekends, so unrelated services that
    are both busy on weekdays coincide less in it than in the real history: counts without a
    seasonal null of their own, like joint events, need this decoy.) ``None`` under two
    days of history."""
    day = 86400.0
    start = np.floor(times.min() / day) * day
    days = int((times.max() - start) // day) + 1
    if days < 2:
        return None
    index = np.arange(days)
    weekend = ((start // day + 3 + index) % 7) >= 5  # epoch day 0 was a Thursday
    rng = np.random.default_rng(seed)
    n_groups = int(group_of_row.max()) + 1
    target = np.tile(index, (n_groups, 1))
    for kind in (False, True):
        members = index[weekend == kind]
        if len(members) < 2:
            continue
        shift = rng.integers(1, len(members), size=n_groups)
        position = (np.arange(len(members))[None, :] + shift[:, None]) % len(members)
        target[:, members] = members[position]
    row_day = np.minimum(((times - start) // day).astype(np.int64), days - 1)
    return times + (target[group_of_row, row_day] - row_day) * day


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort, faster than ``np.unique``'s hashing on int64)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered
