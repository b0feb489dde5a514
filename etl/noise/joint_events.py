"""Joint events: incidents on three or more services created *and* resolved within minutes of
each other (a root going down and its dependents recovering with it), and the service
triples that recur in them more than chance allows."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson

from etl.noise.decoys import _decoy_cutoff, _decoy_days, _distinct
from etl.noise.settings import GroupingSettings


def joint_event_similarity(
    times: np.ndarray,
    resolved: np.ndarray,
    services: np.ndarray,
    n_services: int,
    settings: GroupingSettings,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Service triples that recur in *joint events* more than chance allows.

    A joint event is a chain of incidents, each open at least ``joint_min_duration``, that
    were created *and* resolved within ``joint_link_seconds`` of a neighbour, on
    ``min_joint_services`` to ``max_joint_services`` services: a root going down and its
    dependents recovering when it does. Firing together is common between busy services;
    also resolving together, on three services, and again, is rare by chance.

    A triple's count is the number of joint events holding its three services. Null:
    independent services, so its expected count is ``rate * n_a * n_b * n_c`` (``n``: the
    service's incidents open at least ``joint_min_duration``; busy services meet more
    often), the rate being the triples counted in ``joint_decoys`` decoy histories over the
    sum of those products (:func:`_decoy_days`: every service's days permuted within
    weekdays and within weekend days). A triple seen at least ``min_joint_recurrence`` times
    is a candidate with the Poisson chance of its count; the cut-off is the loosest one at
    which decoy candidates passing are at most ``joint_max_decoy_ratio`` of the real ones
    (as for co-firing pairs). The three pairs of a significant triple get similarity
    ``joint_similarity``. Deterministic (seeded decoys).

    Returns that similarity, the mask of service pairs that share enough joint events for
    their co-firing to be believed (the count calibrated on the same decoys, see below), and
    the calibration figures.
    """
    times = np.asarray(times, dtype="float64")
    services = np.asarray(services, dtype=np.int64)
    durations = np.asarray(resolved, dtype="float64") - times
    durations[~np.isfinite(durations)] = -1.0  # still open (or no time): in no joint event
    similarity = np.zeros((n_services, n_services))
    np.fill_diagonal(similarity, 1.0)
    counts = np.bincount(
        services[durations >= settings.joint_min_duration], minlength=n_services
    ).astype("float64")
    real = _joint_units(times, durations, services, n_services, settings)
    decoys = []
    for decoy in range(settings.joint_decoys):
        shifted = _decoy_days(times, services, settings.decoy_seed + decoy)
        if shifted is None:  # under two days of history
            break
        decoys.append(_joint_units(shifted, durations, services, n_services, settings))
    calibration: dict = {
        "decoys": len(decoys),
        "max_decoy_ratio": settings.joint_max_decoy_ratio,
        "events": real["events"],
        "decoy_events": float(np.mean([d["events"] for d in decoys])) if decoys else None,
    }
    keep_units = _significant_triples(real, decoys, counts, n_services, settings, calibration)
    members = _decode_units(keep_units, n_services, 3)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        similarity[members[:, i], members[:, j]] = settings.joint_similarity
        similarity[members[:, j], members[:, i]] = settings.joint_similarity
    confirmed = _confirmed_pairs(real, decoys, n_services, settings, calibration)
    return similarity, confirmed, calibration


def _significant_triples(
    real: dict,
    decoys: list[dict],
    counts: np.ndarray,
    n_services: int,
    settings: GroupingSettings,
    calibration: dict,
) -> np.ndarray:
    """The service triples (encoded) that recur more than chance, at the cut-off calibrated
    on the decoys; their figures added to ``calibration``."""
    units, unit_counts = real["triples"]
    total = _elementary_symmetric(counts)
    decoy_total = float(np.mean([d["triples"][1].sum() for d in decoys])) if decoys else 0.0
    rate = decoy_total / total if total > 0 else 0.0
    chance = _triple_chance(units, unit_counts, counts, rate, n_services, settings)
    candidate = unit_counts >= settings.min_joint_recurrence
    real_chance = np.sort(chance[candidate])
    calibration["candidate_triples"] = int(len(real_chance))
    cutoff = -1.0  # nothing passes
    if decoys and len(real_chance):
        decoy_chances = []
        for d in decoys:
            d_chance = _triple_chance(*d["triples"], counts, rate, n_services, settings)
            decoy_chances.append(
                np.sort(d_chance[d["triples"][1] >= settings.min_joint_recurrence])
            )
        calibration["decoy_candidate_triples"] = float(np.mean([len(d) for d in decoy_chances]))
        cutoff, passing = _decoy_cutoff(real_chance, decoy_chances, settings.joint_max_decoy_ratio)
        if passing is not None:
            calibration["decoy_triples_passing"] = passing
    keep = candidate & (chance <= cutoff)
    calibration["calibrated"] = bool(keep.any())
    calibration["chance_cutoff"] = cutoff if cutoff >= 0 else None
    calibration["triples_passing"] = int(keep.sum())
    return units[keep]


def _confirmed_pairs(
    real: dict, decoys: list[dict], n_services: int, settings: GroupingSettings, calibration: dict
) -> np.ndarray:
    """Mask of the service pairs whose co-firing is believed: they share enough joint events.

    How many joint events two services must share: the smallest count (from
    ``min_joint_confirm``) at which decoy pairs sharing that many are at most
    ``max_decoy_ratio`` of the real ones (1 on a quiet account, where chance joint events are
    rare; more on a busy one). None qualifying: every cross-service co-firing pair is vetoed.
    """
    pair_units, pair_counts = real["pairs"]
    confirm = None
    top = int(pair_counts.max(initial=0))
    for k in range(settings.min_joint_confirm, top + 1):
        real_pairs = int((pair_counts >= k).sum())
        decoy_pairs = (
            float(np.mean([(d["pairs"][1] >= k).sum() for d in decoys])) if decoys else 0.0
        )
        if decoys and decoy_pairs <= settings.max_decoy_ratio * real_pairs:
            confirm = k
            break
    calibration["confirm_events"] = confirm
    shared = _decode_units(
        pair_units[pair_counts >= (confirm if confirm is not None else top + 1)], n_services, 2
    )
    confirmed = np.zeros((n_services, n_services), dtype=bool)
    confirmed[shared[:, 0], shared[:, 1]] = True
    confirmed[shared[:, 1], shared[:, 0]] = True
    np.fill_diagonal(confirmed, True)
    calibration["confirmed_pairs"] = int(len(shared))
    return confirmed


def _elementary_symmetric(values: np.ndarray) -> float:
    """Sum of the products of every three distinct values."""
    s1, s2, s3 = values.sum(), (values**2).sum(), (values**3).sum()
    return float((s1**3 - 3 * s1 * s2 + 2 * s3) / 6)


def _decode_units(units: np.ndarray, n_services: int, order: int) -> np.ndarray:
    """Service indexes of pairs / triples encoded as base-``n_services`` numbers."""
    columns = []
    rest = units.astype(np.int64)
    for _ in range(order):
        columns.append(rest % n_services)
        rest = rest // n_services
    return np.stack(columns[::-1], axis=1) if len(units) else np.zeros((0, order), np.int64)


def _triple_chance(
    units: np.ndarray,
    unit_counts: np.ndarray,
    counts: np.ndarray,
    rate: float,
    n_services: int,
    settings: GroupingSettings,
) -> np.ndarray:
    """Poisson chance of each triple's count under independence (1 below the recurrence
    the test asks for, where it is not needed)."""
    chance = np.ones(len(units))
    candidate = unit_counts >= settings.min_joint_recurrence
    if candidate.any():
        members = _decode_units(units[candidate], n_services, 3)
        expected = rate * counts[members].prod(axis=1)
        chance[candidate] = poisson.sf(unit_counts[candidate] - 1, np.maximum(expected, 1e-300))
    return chance


def _joint_units(
    times: np.ndarray,
    durations: np.ndarray,
    services: np.ndarray,
    n_services: int,
    settings: GroupingSettings,
) -> dict:
    """Joint events of one history: their number, and per service pair and triple (encoded
    as base-``n_services`` numbers, services ascending) how many events hold it."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    result: dict = {"events": 0, "pairs": empty, "triples": empty}
    keep = np.flatnonzero(durations >= settings.joint_min_duration)
    if len(keep) < settings.min_joint_services:
        return result
    order = keep[np.argsort(times[keep], kind="stable")]
    created = times[order]
    ended = created + durations[order]
    link = settings.joint_link_seconds
    heads, tails = [], []
    active = np.arange(len(order) - 1)
    step = 1
    while len(active):  # each incident against its followers created within ``link``
        active = active[active + step < len(order)]
        active = active[created[active + step] - created[active] <= link]
        linked = active[np.abs(ended[active + step] - ended[active]) <= link]
        heads.append(linked)
        tails.append(linked + step)
        step += 1
    head = np.concatenate(heads) if heads else np.zeros(0, np.int64)
    if not len(head):
        return result
    tail = np.concatenate(tails)
    # Only linked incidents can be in an event; number them densely for the graph.
    linked_mask = np.zeros(len(order), dtype=bool)
    linked_mask[head] = True
    linked_mask[tail] = True
    nodes = np.flatnonzero(linked_mask)
    number = np.cumsum(linked_mask) - 1
    graph = sparse.coo_matrix(
        (np.ones(len(head), dtype=np.int8), (number[head], number[tail])),
        shape=(len(nodes), len(nodes)),
    )
    _, label = connected_components(graph, directed=False)
    big = np.bincount(label)[label] >= settings.min_joint_services  # enough incidents
    cells = _distinct(label[big].astype(np.int64) * n_services + services[order[nodes[big]]])
    event, service = cells // n_services, cells % n_services
    size = np.bincount(event) if len(event) else np.zeros(0, np.int64)
    fits = (size[event] >= settings.min_joint_services) & (
        size[event] <= settings.max_joint_services
    )
    event, service = event[fits], service[fits]
    if not len(event):
        return result
    starts = np.flatnonzero(np.r_[True, event[1:] != event[:-1]])
    result["events"] = int(len(starts))
    widths = size[event[starts]]
    for unit_order, name in ((2, "pairs"), (3, "triples")):
        codes = []
        for width in np.unique(widths):
            first = starts[widths == width]
            members = service[first[:, None] + np.arange(width)[None, :]]  # ascending
            combos = np.array(list(combinations(range(int(width)), unit_order)))
            picked = members[:, combos]  # events x combinations x order
            code = picked[:, :, 0]
            for k in range(1, unit_order):
                code = code * n_services + picked[:, :, k]
            codes.append(code.ravel())
        codes_all = np.sort(np.concatenate(codes))
        first_of = np.flatnonzero(np.r_[True, codes_all[1:] != codes_all[:-1]])
        result[name] = (codes_all[first_of], np.diff(np.r_[first_of, len(codes_all)]))
    return result
