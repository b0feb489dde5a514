"""Single storms recognised by their automatic resolutions: incidents on several services
created within minutes and *closed by their integrations* within minutes of each other (a
root's dependents recovering when it does), where decoy histories seldom produce as many
such events. A root that fails once in the history is invisible to the tests that need
recurrence (co-firing pairs, joint triples); this adds its storm as one occurrence, on top
of the groups those tests found (docs/grouping.md, section 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from etl.noise.decoys import _decoy_days
from etl.noise.settings import GroupingSettings


def auto_resolved_storms(
    frame: pd.DataFrame, taken: set, settings: GroupingSettings
) -> tuple[pd.DataFrame, dict]:
    """Occurrences of single storms: rows of ``frame`` (time order; ``auto_resolved``,
    ``resolved_epoch``) with an ``occurrence_id``, and the calibration figures.

    An *auto-resolved event* is a chain of automatically resolved incidents, each open at
    least ``joint_min_duration``, created and resolved within ``joint_link_seconds`` of a
    neighbour, lasting at most ``max_occurrence_seconds``, on ``m`` to ``max_joint_services``
    services. ``m`` is calibrated on ``auto_decoys`` decoy histories of the automatically
    resolved incidents (:func:`_decoy_days`): the smallest size from ``min_joint_services``
    at which the decoys yield at most ``auto_max_decoy_ratio`` of the real events; none
    qualifying, no single storm is added. An event none of whose incidents is in ``taken``
    (already in an occurrence) becomes an occurrence, with the incidents not resolved
    automatically that lie on one of its services, created during it (dependents resolved
    by hand), and one root: of the incidents not resolved automatically created in the
    ``window_seconds`` before it and resolved within ``joint_link_seconds`` of one of its
    incidents, the one resolving closest to the event's median resolution."""
    empty = frame.iloc[:0].assign(occurrence_id=pd.Series(dtype=str))
    figures: dict = {"ratio": settings.auto_max_decoy_ratio}
    if "auto_resolved" not in frame.columns:
        return empty, figures | {"used": False}
    times = frame["epoch"].to_numpy("float64")
    durations = frame["resolved_epoch"].to_numpy("float64") - times
    durations[~np.isfinite(durations)] = -1.0
    services = frame["service_id"].cat.codes.to_numpy(np.int64)
    auto = frame["auto_resolved"].fillna(False).to_numpy(bool)
    rows = np.flatnonzero(auto & (durations >= settings.joint_min_duration))
    if len(rows) < settings.min_joint_services:
        return empty, figures | {"used": False}
    events, sizes = _events(times[rows], durations[rows], services[rows], settings)
    decoy_sizes = []
    for decoy in range(settings.auto_decoys):
        shifted = _decoy_days(times[rows], services[rows], settings.decoy_seed + decoy)
        if shifted is None:
            break
        order = np.argsort(shifted, kind="stable")
        decoy_sizes.append(
            _events(shifted[order], durations[rows][order], services[rows][order], settings)[1]
        )
    least = _least_size(sizes, decoy_sizes, settings)
    figures |= {"used": True, "events": len(sizes), "min_services": least}
    if least is None:
        return empty, figures
    taken_mask = frame["incident_id"].isin(taken).to_numpy()
    chosen = []
    for event, size in zip(events, sizes, strict=True):
        members = rows[event]
        if size >= least and not taken_mask[members].any():
            chosen.append(_with_root(members, times, durations, services, auto, settings))
    chosen = [c[~taken_mask[c]] for c in chosen]
    figures["storms"] = len(chosen)
    if not chosen:
        return empty, figures
    parts = []
    for members in chosen:
        part = frame.iloc[np.unique(members)].copy()
        part["occurrence_id"] = "A-" + str(int(times[members].min()))
        parts.append(part)
    found = pd.concat(parts).drop_duplicates("incident_id")
    return found, figures


def _least_size(sizes: np.ndarray, decoy_sizes: list, settings: GroupingSettings) -> int | None:
    """The smallest event size at which decoys yield at most the ratio of real events."""
    if not decoy_sizes:
        return None
    for m in range(settings.min_joint_services, settings.max_joint_services + 1):
        real = int((sizes >= m).sum())
        if real == 0:
            return None
        decoy = float(np.mean([(d >= m).sum() for d in decoy_sizes]))
        if decoy <= settings.auto_max_decoy_ratio * real:
            return m
    return None


def _with_root(
    members: np.ndarray,
    times: np.ndarray,
    durations: np.ndarray,
    services: np.ndarray,
    auto: np.ndarray,
    settings: GroupingSettings,
) -> np.ndarray:
    """The event's rows plus the incidents not resolved automatically that belong to it."""
    first, last = times[members].min(), times[members].max()
    lo = np.searchsorted(times, first - settings.window_seconds, side="left")
    hi = np.searchsorted(times, last, side="right")
    near = np.arange(lo, hi)
    near = near[~auto[near] & (durations[near] >= 0)]
    ends = times[members] + durations[members]
    near_end = times[near] + durations[near]
    resolves_with = (np.abs(near_end[:, None] - ends[None, :]) <= settings.joint_link_seconds).any(
        axis=1
    ) & (times[near] <= first)
    same_service = np.isin(services[near], services[members]) & (times[near] >= first)
    if resolves_with.sum() > 1:  # one root: the one resolving closest to the event
        gap = np.abs(near_end - np.median(ends))
        gap[~resolves_with] = np.inf
        resolves_with = np.zeros(len(near), dtype=bool)
        resolves_with[np.argmin(gap)] = True
    return np.r_[members, near[resolves_with | same_service]]


def _events(
    times: np.ndarray, durations: np.ndarray, services: np.ndarray, settings: GroupingSettings
) -> tuple[list[np.ndarray], np.ndarray]:
    """Chains of incidents (time order) created and resolved within ``joint_link_seconds``
    of a neighbour, lasting at most ``max_occurrence_seconds``, on ``min_joint_services`` to
    ``max_joint_services`` services: their rows and their numbers of services."""
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
        return [], np.zeros(0, np.int64)
    tail = np.concatenate(tails)
    graph = sparse.coo_matrix(
        (np.ones(len(head), dtype=np.int8), (head, tail)), shape=(len(times), len(times))
    )
    _, label = connected_components(graph, directed=False)
    big = np.flatnonzero(np.bincount(label)[label] >= settings.min_joint_services)
    order = big[np.argsort(label[big], kind="stable")]
    events, sizes = [], []
    if not len(order):
        return events, np.zeros(0, np.int64)
    bounds = np.flatnonzero(np.r_[True, label[order][1:] != label[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        rows = order[a:b]
        size = len(np.unique(services[rows]))
        span = times[rows].max() - times[rows].min()
        if (
            settings.min_joint_services <= size <= settings.max_joint_services
            and span <= settings.max_occurrence_seconds
        ):
            events.append(rows)
            sizes.append(size)
    return events, np.asarray(sizes, dtype=np.int64)


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
                "member_incidents": int(counts[keys].sum()),
                "p50_spread_seconds": float(np.percentile(spans, 50)),
                "p90_spread_seconds": float(np.percentile(spans, 90)),
                "cohesion": 0.0,
                "max_pair_lift": 0.0,
                "first_seen": part["created_at"].min(),
                "last_seen": part["created_at"].max(),
            }
        )
    return rows, found.reset_index(drop=True)
