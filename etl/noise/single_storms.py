"""Single storms: an outage seen once, recognised by how its incidents end. A root goes down,
its dependents page within minutes and are *closed by their integrations* within minutes of
each other when the root recovers, just after the root itself resolves. A root that fails
once in the history is invisible to the tests that need recurrence (co-firing pairs, joint
triples); this adds its storm as one occurrence, on top of the groups those tests found,
where decoy histories seldom produce as large an event (docs/grouping.md, section 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from etl.noise.decoys import _decoy_days, _distinct
from etl.noise.settings import GroupingSettings


def single_storms(
    frame: pd.DataFrame, taken: set, settings: GroupingSettings
) -> tuple[pd.DataFrame, dict]:
    """Occurrences of single storms: rows of ``frame`` (time order; ``auto_resolved``,
    ``resolved_epoch``) with an ``occurrence_id``, and the calibration figures.

    An *event* (:func:`_events`) is a chain of automatically resolved incidents, each open at
    least ``joint_min_duration``, created and resolved within ``joint_link_seconds`` of a
    neighbour, lasting at most ``max_occurrence_seconds``, plus its *root*: an incident of
    another service created in the ``window_seconds`` before the chain and resolved within
    ``joint_link_seconds`` before the chain's first resolution (the root recovers first; of
    several, the last to resolve), however it was resolved. Without such a root, the chain's
    first incident must be its first to resolve (it is the root). Its size is its number of
    services, root included, and its *repeats*: its incidents beyond one per service (a storm
    pages a dependent several times; incidents meeting by chance are one per service).

    The least (services, repeats) an event needs is calibrated on ``auto_decoys`` decoy
    histories of all incidents (:func:`_decoy_days`, every service's days permuted within
    day type), see :func:`_least_size`; none qualifying, nothing is added. A passing event
    none of whose incidents is in ``taken`` (already in an occurrence) keeps the members
    chance would seldom bring (:func:`_trusted`) and becomes an occurrence, with the
    incidents not resolved automatically of its member services created during it
    (dependents resolved by hand)."""
    empty = frame.iloc[:0].assign(occurrence_id=pd.Series(dtype=str))
    figures: dict = {"ratio": settings.auto_max_decoy_ratio, "decoys": settings.auto_decoys}
    if "auto_resolved" not in frame.columns or not len(frame):
        return empty, figures | {"used": False}
    times = frame["epoch"].to_numpy("float64")
    durations = frame["resolved_epoch"].to_numpy("float64") - times
    durations[~np.isfinite(durations)] = -1.0
    services = frame["service_id"].cat.codes.to_numpy(np.int64)
    auto = frame["auto_resolved"].fillna(False).to_numpy(bool)
    events, sizes = _events(times, durations, services, auto, settings)
    decoy_sizes = []
    for decoy in range(settings.auto_decoys):
        shifted = _decoy_days(times, services, settings.decoy_seed + decoy)
        if shifted is None:  # under two days of history
            break
        order = np.argsort(shifted, kind="stable")
        arrays = (shifted[order], durations[order], services[order], auto[order])
        decoy_sizes.append(_events(*arrays, settings)[1])
    least = _least_size(sizes, decoy_sizes, settings)
    figures |= {
        "used": True,
        "events": len(sizes),
        "decoy_events": float(np.mean([len(d) for d in decoy_sizes])) if decoy_sizes else None,
        "min_services": least and least[0],
        "min_repeats": least and least[1],
    }
    if least is None:
        return empty, figures
    taken_mask = frame["incident_id"].isin(taken).to_numpy()
    arrays = (times, durations, services, auto)
    passing = []
    for (root, chain), size in zip(events, sizes, strict=True):
        members = np.r_[[root] if root >= 0 else [], chain].astype(np.int64)
        if size[0] >= least[0] and size[1] >= least[1] and not taken_mask[members].any():
            passing.append((root, chain))
    # Strays are bounded over all the storms added, not per storm.
    bound = settings.max_stray_expectation / max(1, len(passing))
    chosen = []
    for root, chain in passing:
        members = _trusted(root, chain, *arrays, bound, settings)
        if members is not None:
            chosen.append(_with_hand_resolved(members, *arrays))
    chosen = [c[~taken_mask[c]] for c in chosen]
    figures["storms"] = len(chosen)
    if not chosen:
        return empty, figures
    parts = []
    for members in chosen:
        part = frame.iloc[np.unique(members)].copy()
        part["occurrence_id"] = "S-" + str(int(times[members].min()))
        parts.append(part)
    return pd.concat(parts).drop_duplicates("incident_id"), figures


def _least_size(
    sizes: np.ndarray, decoy_sizes: list, settings: GroupingSettings
) -> tuple[int, int] | None:
    """The least (services, incidents) an event needs: of the thresholds at which the decoys
    yield at most ``auto_max_decoy_ratio`` times the real events passing and at most
    ``auto_max_decoy_events`` per decoy, the one passing the most real events (then the
    fewest services, then the fewest incidents); ``None`` if none qualifies."""
    if not decoy_sizes or not len(sizes):
        return None
    best, best_real = None, 0
    for m in range(settings.min_joint_services, settings.max_joint_services + 1):
        for k in range(0, settings.max_joint_services + 1):
            real = int(((sizes[:, 0] >= m) & (sizes[:, 1] >= k)).sum())
            if real <= best_real:
                continue  # stricter thresholds never pass more
            decoy = float(np.mean([((d[:, 0] >= m) & (d[:, 1] >= k)).sum() for d in decoy_sizes]))
            limit = min(settings.auto_max_decoy_ratio * real, settings.auto_max_decoy_events)
            if decoy <= limit:
                best, best_real = (m, k), real
    return best


def _trusted(
    root: int,
    chain: np.ndarray,
    times: np.ndarray,
    durations: np.ndarray,
    services: np.ndarray,
    auto: np.ndarray,
    bound: float,
    settings: GroupingSettings,
) -> np.ndarray | None:
    """The event's rows that chance would seldom put there; ``None`` when fewer than
    ``min_joint_services`` services are left.

    A member service holding one incident of the chain, or an outside root, could be an
    unrelated incident that happened to fail and recover with the storm (one unrelated
    service makes the whole group advice an owner cannot trust). How many such incidents
    chance brings is measured on the account itself: the same windows (creation and
    resolution) moved by whole days, 1 to 7 back and forward, counting the
    incidents of other services that would qualify (:func:`_strays`). Where that expectation
    is above ``bound`` (``max_stray_expectation`` shared by all the storms added),
    single-incident members and an outside root are left out."""
    ends = times + durations
    long_enough = durations >= settings.joint_min_duration
    link = settings.joint_link_seconds
    # A storm's dependents page within one window of its root.
    start = times[root] if root >= 0 else times[chain].min()
    chain = chain[times[chain] <= start + settings.window_seconds]
    chain_ends = ends[chain]
    member_box = (times[chain].min() - link, times[chain].max() + link)
    member_ends = (chain_ends.min() - link, chain_ends.max() + link)
    exclude = np.unique(services[chain])
    joiners = _strays(member_box, member_ends, times, ends, auto & long_enough, services, exclude)
    codes, inverse, count = np.unique(services[chain], return_inverse=True, return_counts=True)
    if joiners > bound:
        chain = _connected(chain[count[inverse] >= 2], times, durations, settings)
    if root >= 0:
        first = times[chain].min() if len(chain) else times[root]
        root_box = (first - settings.window_seconds, first)
        root_ends = (chain_ends.min() - link, chain_ends.min())
        roots = _strays(root_box, root_ends, times, ends, long_enough, services, exclude)
        if roots <= bound:
            chain = np.r_[root, chain]
    if len(np.unique(services[chain])) < settings.min_joint_services:
        return None
    return chain


def _connected(
    chain: np.ndarray, times: np.ndarray, durations: np.ndarray, settings: GroupingSettings
) -> np.ndarray:
    """The rows of ``chain`` (time order) still chained to its first incident once some
    members are left out (a service linked to the storm only through them is not kept)."""
    if len(chain) < 2:
        return chain
    label = _chains(times[chain], durations[chain], settings)
    return chain[(label == label[0]) & (label >= 0)]


def _strays(
    created: tuple[float, float],
    ended: tuple[float, float],
    times: np.ndarray,
    ends: np.ndarray,
    eligible: np.ndarray,
    services: np.ndarray,
    exclude: np.ndarray,
    days: int = 7,
) -> float:
    """Mean number of eligible incidents of services not in ``exclude`` created in
    ``created`` and resolved in ``ended`` once both windows are moved by whole days (1 to
    ``days`` back and forward, the moves that stay inside the history)."""
    day = 86400.0
    found = []
    for shift in (*range(-days, 0), *range(1, days + 1)):
        lo, hi = created[0] + shift * day, created[1] + shift * day
        if lo < times[0] or hi > times[-1]:
            continue
        rows = np.arange(np.searchsorted(times, lo), np.searchsorted(times, hi, side="right"))
        rows = rows[eligible[rows] & ~np.isin(services[rows], exclude)]
        moved = ends[rows] - shift * day
        found.append(int(((moved >= ended[0]) & (moved <= ended[1])).sum()))
    return float(np.mean(found)) if found else 0.0


def _with_hand_resolved(
    members: np.ndarray,
    times: np.ndarray,
    durations: np.ndarray,
    services: np.ndarray,
    auto: np.ndarray,
) -> np.ndarray:
    """The event's rows plus the incidents not resolved automatically of its services created
    during it (a dependent acknowledged and resolved by hand is still part of the storm)."""
    first, last = times[members].min(), times[members].max()
    lo = np.searchsorted(times, first, side="left")
    hi = np.searchsorted(times, last, side="right")
    near = np.arange(lo, hi)
    near = near[~auto[near] & (durations[near] >= 0) & np.isin(services[near], services[members])]
    return np.r_[members, near]


def _events(
    times: np.ndarray,
    durations: np.ndarray,
    services: np.ndarray,
    auto: np.ndarray,
    settings: GroupingSettings,
) -> tuple[list[tuple[int, np.ndarray]], np.ndarray]:
    """The events of one history (rows in time order): each event's root row (-1: none
    outside the chain) and chain rows, and its (services, repeats) where repeats are its
    incidents beyond one per service (see :func:`single_storms`). Vectorised over chains."""
    long_enough = durations >= settings.joint_min_duration
    ends = times + durations
    rows = np.flatnonzero(auto & long_enough)
    label = _chains(times[rows], durations[rows], settings)
    none = ([], np.zeros((0, 2), np.int64))
    keep = label >= 0
    if not keep.any():
        return none
    rows, label = rows[keep], label[keep]
    order = np.lexsort((rows, label))  # by chain, then time
    rows, label = rows[order], label[order]
    starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    chain_of = np.cumsum(np.r_[False, label[1:] != label[:-1]])  # dense chain number
    n_services = int(services.max()) + 1
    cells = _distinct(chain_of * n_services + services[rows])
    n_chain_services = np.bincount(cells // n_services, minlength=len(starts))
    n_incidents = np.diff(np.r_[starts, len(rows)])
    first = times[rows[starts]]  # rows are in time order within a chain
    first_end = np.minimum.reduceat(ends[rows], starts)
    roots = _roots(first, first_end, cells, times, ends, services, long_enough, settings)
    # Without an outside root, the first to fail must be the first to recover.
    rooted = (roots >= 0) | (ends[rows[starts]] <= first_end)
    size = n_chain_services + (roots >= 0)
    fits = rooted & (n_chain_services >= 2) & (size <= settings.max_joint_services)
    sizes = np.stack([size, n_incidents + (roots >= 0) - size], axis=1)[fits]
    bounds = np.r_[starts, len(rows)]
    events = [(int(roots[c]), rows[bounds[c] : bounds[c + 1]]) for c in np.flatnonzero(fits)]
    return events, sizes


def _roots(
    first: np.ndarray,
    first_end: np.ndarray,
    cells: np.ndarray,
    times: np.ndarray,
    ends: np.ndarray,
    services: np.ndarray,
    long_enough: np.ndarray,
    settings: GroupingSettings,
) -> np.ndarray:
    """Per chain, the row of its root (-1: none): an incident of another service, open long
    enough, created in the ``window_seconds`` before the chain's first incident and resolved
    at most ``joint_link_seconds`` before the chain's first resolution (the root recovers
    first); of several, the one resolving last."""
    n_services = int(services.max()) + 1
    lo = np.searchsorted(times, first - settings.window_seconds, side="left")
    hi = np.searchsorted(times, first, side="right")
    counts = hi - lo
    chain = np.repeat(np.arange(len(first)), counts)
    candidate = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    candidate = candidate + np.repeat(lo, counts)
    end = ends[candidate]
    ok = (
        long_enough[candidate]
        & (end <= first_end[chain])
        & (end >= first_end[chain] - settings.joint_link_seconds)
    )
    code = chain * n_services + services[candidate]
    position = np.minimum(np.searchsorted(cells, code), max(len(cells) - 1, 0))
    ok &= cells[position] != code  # another service than the chain's
    chain, candidate, end = chain[ok], candidate[ok], end[ok]
    roots = np.full(len(first), -1, dtype=np.int64)
    order = np.lexsort((end, chain))  # the last-resolving candidate of a chain wins
    roots[chain[order]] = candidate[order]
    return roots


def _chains(times: np.ndarray, durations: np.ndarray, settings: GroupingSettings) -> np.ndarray:
    """Each incident's chain (time order; -1: in none): incidents created and resolved within
    ``joint_link_seconds`` of a neighbour, chains of at least two incidents lasting at most
    ``max_occurrence_seconds``."""
    link = settings.joint_link_seconds
    ended = times + durations
    heads, tails = [], []
    active = np.arange(len(times) - 1)
    step = 1
    while len(active):
        active = active[active + step < len(times)]
        active = active[times[active + step] - times[active] <= link]
        linked = active[np.abs(ended[active + step] - ended[active]) <= link]
        heads.append(linked)
        tails.append(linked + step)
        step += 1
    head = np.concatenate(heads) if heads else np.zeros(0, np.int64)
    if not len(head):
        return np.full(len(times), -1, dtype=np.int64)
    tail = np.concatenate(tails)
    graph = sparse.coo_matrix(
        (np.ones(len(head), dtype=np.int8), (head, tail)), shape=(len(times), len(times))
    )
    _, label = connected_components(graph, directed=False)
    n = int(label.max()) + 1
    span = np.full(n, -np.inf)
    np.maximum.at(span, label, times)
    start = np.full(n, np.inf)
    np.minimum.at(start, label, times)
    good = (np.bincount(label, minlength=n) >= 2) & (
        span - start <= settings.max_occurrence_seconds
    )
    return np.where(good[label], label, -1)


def single_storm_rows(
    found: pd.DataFrame, counts: pd.Series, group_id_of
) -> tuple[list[dict], pd.DataFrame]:
    """Group rows for the single storms (one group per set of alert types, usually one
    occurrence), in the columns of ``find_groups``' groups, and their assignments."""
    keys_of = found.groupby("occurrence_id")["key"].agg(lambda k: tuple(sorted(set(map(str, k)))))
    found = found.assign(group_id=found["occurrence_id"].map(lambda o: group_id_of(keys_of[o])))
    found["occurrence_id"] = found["group_id"] + "-" + found["occurrence_id"].str[2:]
    rows = []
    for group_id, part in found.groupby("group_id", sort=True):
        keys = sorted(set(part["key"].astype(str)))
        epochs = part.groupby("occurrence_id")["epoch"]
        spans = epochs.max() - epochs.min()
        rows.append(
            {
                "group_id": group_id,
                "member_keys": keys,
                "template_ids": sorted(set(part["template_id"].astype(str))),
                "templates": sorted(set(part["template"].astype(str))),
                "service_ids": sorted(set(part["service_id"].astype(str))),
                "alert_types": len(keys),
                "occurrences": int(part["occurrence_id"].nunique()),
                "incidents_in_occurrences": int(len(part)),
                "member_incidents": int(counts.reindex(keys).fillna(0).sum()),
                "p50_spread_seconds": float(np.percentile(spans, 50)),
                "p90_spread_seconds": float(np.percentile(spans, 90)),
                "cohesion": 0.0,
                "max_pair_lift": 0.0,
                "first_seen": part["created_at"].min(),
                "last_seen": part["created_at"].max(),
            }
        )
    return rows, found.reset_index(drop=True)
