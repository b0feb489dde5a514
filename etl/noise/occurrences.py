"""Occurrences: a group's incidents cut into storms (dense bursts on several services), tested
against decoy histories and, on busy services, against joint cores (resolving together)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson

from etl.noise.decoys import _decoy_days, _distinct
from etl.noise.settings import GroupingSettings


def _occurrences(
    frame: pd.DataFrame,
    group_of_key: dict[str, str],
    service_similarity: np.ndarray,
    service_of: dict[str, int],
    settings: GroupingSettings,
    joint: bool = False,
) -> pd.DataFrame:
    """Cut each group's incidents into occurrences (storms).

    Per group, the incidents of grouped alert types on the group's services and on services
    that co-fire with them (a storm that touches a service clustered elsewhere stays one
    storm) are chained in time (gaps <= window). A burst belongs to the group when most of its
    incidents are the group's own, lasts at most ``max_occurrence_seconds`` (a longer chain is
    background density, not an outage), and spans ``min_occurrence_services`` services and
    ``min_occurrence_incidents`` incidents (an outage that pages several teams, not two alerts
    that met by chance). An incident in bursts of two groups stays in the larger burst.

    With resolution times (``joint``), calibrated per group on ``joint_decoys`` decoy
    histories of its candidate incidents (:func:`_decoy_days`): when the decoys yield more
    than ``max_decoy_ratio`` of the real number of bursts (busy services: at scale 8 three
    incidents on three services within ten minutes are everyday chance), a burst is an
    occurrence only if it also holds a joint core (:func:`_joint_cores`: incidents on three
    services resolving together). The group is dropped when it then has fewer than
    ``min_joint_recurrence`` occurrences, or its decoys still yield more than
    ``max_occurrence_decoy_ratio`` of them (unrelated busy services peaking at the same
    hours). Figures per group in the frame's ``attrs["calibration"]``.
    """
    candidates = frame[frame["key"].isin(group_of_key)].copy()
    columns = [*frame.columns, "group_id", "occurrence_id"]
    if candidates.empty:
        return pd.DataFrame(columns=columns)
    candidates["own_group"] = candidates["key"].map(group_of_key)
    candidates["service_index"] = candidates["service_id"].map(service_of)
    # Absorb only services that co-fire strongly with the group's (not any significant pair:
    # a chance pair would drag a bystander service into the storm).
    related_matrix = service_similarity >= settings.min_similarity
    # Per group on plain arrays (candidates are in time order); rows become a frame only
    # once they are an occurrence.
    names = sorted(set(group_of_key.values()))
    own_code = candidates["own_group"].map({g: i for i, g in enumerate(names)}).to_numpy()
    service_index = candidates["service_index"].to_numpy(np.int64)
    epoch = candidates["epoch"].to_numpy()
    if joint:
        open_for = candidates["resolved_epoch"].to_numpy() - epoch
        open_for[~np.isfinite(open_for)] = -1.0  # still open: in no joint core
    n_services = len(service_of)
    pieces = []
    calibration: dict[str, dict] = {}  # per group: test used, real vs decoy occurrences
    for code, group_id in enumerate(names):
        own = own_code == code
        services = np.unique(service_index[own])
        related = related_matrix[services].any(axis=0)
        related[services] = True
        rows = np.flatnonzero(own | related[service_index])
        times, own_rows, service_rows = epoch[rows], own[rows], service_index[rows]
        burst, valid, start = _bursts(times, own_rows, service_rows, None, n_services, settings)
        if not valid.any():
            continue
        if joint:
            arrays = (times, own_rows, service_rows, open_for[rows])
            figures, cut = _calibrated((burst, valid, start), *arrays, n_services, settings)
            calibration[group_id] = figures
            if cut is None:
                continue
            burst, valid, start = cut
        keep = np.zeros(len(rows), dtype=bool)
        keep[burst >= 0] = valid[burst[burst >= 0]]
        part = candidates.iloc[rows[keep]].copy()
        part["group_id"] = group_id
        part["burst_size"] = np.bincount(burst[keep])[burst[keep]]
        part["occurrence_id"] = group_id + "-" + start[burst[keep]].astype("int64").astype(str)
        pieces.append(part)
    return _merged(pieces, columns, calibration)


def _merged(pieces: list[pd.DataFrame], columns: list[str], calibration: dict) -> pd.DataFrame:
    """The groups' occurrences as one frame in time order, an incident in bursts of two
    groups kept in the larger burst; the calibration figures in ``attrs``."""
    if not pieces:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["calibration"] = calibration
        return empty
    occurrences = pd.concat(pieces, ignore_index=True)
    occurrences = occurrences.sort_values(
        ["incident_id", "burst_size", "group_id"], ascending=[True, False, True]
    ).drop_duplicates("incident_id")
    occurrences = occurrences.sort_values(["epoch", "incident_id"]).reset_index(drop=True)
    occurrences.attrs["calibration"] = calibration
    return occurrences


def _calibrated(
    plain: tuple[np.ndarray, np.ndarray, np.ndarray],
    times: np.ndarray,
    own: np.ndarray,
    services: np.ndarray,
    durations: np.ndarray,
    n_services: int,
    settings: GroupingSettings,
) -> tuple[dict, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """One group's bursts (``plain``: :func:`_bursts` without durations) tested against decoy
    histories: the figures (test used, real and
    decoy occurrences, dropped) and the bursts kept (as :func:`_bursts` returns them), or
    ``None`` when the group is dropped.

    Calibrated on decoys: the group's incidents with every service's days permuted (hour of
    day and rate kept, cross-service timing broken). Bursts that chance seldom reproduces
    (quiet services) are kept as they are; else an occurrence also needs a joint core (its
    incidents resolving together), and a group whose cored occurrences chance still
    reproduces (busy services peaking at the same hours) is background, not storms: dropped.
    """
    decoys = []
    for decoy in range(settings.joint_decoys):
        shifted = _decoy_days(times, services, settings.decoy_seed + decoy)
        if shifted is None:  # under two days of history: no calibration
            break
        order = np.argsort(shifted, kind="stable")
        decoys.append((shifted[order], order))

    arrays = (own, services)
    cut = plain
    real = int(cut[1].sum())
    decoy_count = _decoy_occurrences(decoys, *arrays, None, n_services, settings)
    test = "bursts"
    if decoy_count > settings.max_decoy_ratio * real:
        cut = _bursts(times, *arrays, durations, n_services, settings)
        real, test = int(cut[1].sum()), "joint cores"
        decoy_count = _decoy_occurrences(decoys, *arrays, durations, n_services, settings)
    figures = {"test": test, "occurrences": real, "decoy_occurrences": decoy_count}
    # One cored occurrence on busy services is too little to tell from chance (a
    # decoy rate of 0.3 shows as 0 in two decoys): recurring, as for joint triples.
    least = settings.min_joint_recurrence if test == "joint cores" else 1
    if real < least or decoy_count > settings.max_occurrence_decoy_ratio * real:
        figures["dropped"] = True
        return figures, None
    return figures, cut


def _decoy_occurrences(
    decoys: list[tuple[np.ndarray, np.ndarray]],
    own: np.ndarray,
    services: np.ndarray,
    durations: np.ndarray | None,
    n_services: int,
    settings: GroupingSettings,
) -> float:
    """Mean number of occurrences :func:`_bursts` finds in the decoy histories (each given
    as its shifted times in order and the order of the rows)."""
    found = [
        _bursts(
            times,
            own[order],
            services[order],
            None if durations is None else durations[order],
            n_services,
            settings,
        )[1].sum()
        for times, order in decoys
    ]
    return float(np.mean(found)) if found else 0.0


def _bursts(
    times: np.ndarray,
    own: np.ndarray,
    services: np.ndarray,
    durations: np.ndarray | None,
    n_services: int,
    settings: GroupingSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One group's candidate incidents (in time order) cut into bursts: each row's burst
    number (-1: outside every dense window), which bursts are occurrences, and their start
    times. With ``durations`` (resolution known) an occurrence also needs a joint core
    (:func:`_joint_cores`)."""
    burst = np.full(len(times), -1, dtype=np.int64)
    dense = np.flatnonzero(_dense_windows(times, settings))
    if not len(dense):
        return burst, np.zeros(0, dtype=bool), np.zeros(0)
    kept = times[dense]
    number = np.r_[0, np.cumsum(np.diff(kept) > settings.window_seconds)]
    burst[dense] = number
    firsts = np.flatnonzero(np.r_[True, number[1:] != number[:-1]])
    lasts = np.r_[firsts[1:] - 1, len(number) - 1]
    incidents = np.bincount(number)
    own_count = np.bincount(number, weights=own[dense])
    pairs = _distinct(number * n_services + services[dense])
    service_count = np.bincount(pairs // n_services, minlength=len(incidents))
    start = kept[firsts]
    valid = (
        (service_count >= settings.min_occurrence_services)
        & (incidents >= settings.min_occurrence_incidents)
        & (2 * own_count > incidents)
        & (kept[lasts] - start <= settings.max_occurrence_seconds)
    )
    if durations is not None and valid.any():
        valid &= _joint_cores(kept, durations[dense], services[dense], number, valid, settings)
    return burst, valid, start


def _joint_cores(
    times: np.ndarray,
    durations: np.ndarray,
    services: np.ndarray,
    burst: np.ndarray,
    valid: np.ndarray,
    settings: GroupingSettings,
) -> np.ndarray:
    """Mask of the bursts (of those ``valid``) that hold a *joint core*: incidents on at least
    ``min_occurrence_services`` services, each open at least ``joint_min_duration``, chained
    by being created *and* resolved within ``joint_link_seconds`` of a neighbour in the
    burst (the joint-event chaining of :func:`_joint_units`, restricted to the burst).

    At scale 8 (a service pages ~17 times a day) three incidents on three services within
    ten minutes happen by chance all the time; also resolving together is what a storm's
    dependents do when the root recovers, and chance rarely repeats. ``times`` in order,
    ``burst`` the burst number of each row (ascending)."""
    result = np.zeros(len(valid), dtype=bool)
    rows = np.flatnonzero(valid[burst] & (durations >= settings.joint_min_duration))
    if len(rows) < settings.min_joint_services:
        return result
    created = times[rows]
    ended = created + durations[rows]
    own_burst = burst[rows]
    link = settings.joint_link_seconds
    heads, tails = [], []
    active = np.arange(len(rows) - 1)
    step = 1
    while len(active):
        active = active[active + step < len(rows)]
        active = active[
            (created[active + step] - created[active] <= link)
            & (own_burst[active + step] == own_burst[active])
        ]
        linked = active[np.abs(ended[active + step] - ended[active]) <= link]
        heads.append(linked)
        tails.append(linked + step)
        step += 1
    head = np.concatenate(heads)
    if not len(head):
        return result
    tail = np.concatenate(tails)
    graph = sparse.coo_matrix(
        (np.ones(len(head), dtype=np.int8), (head, tail)), shape=(len(rows), len(rows))
    )
    _, label = connected_components(graph, directed=False)
    n_services = int(services.max()) + 1
    cells = _distinct(label.astype(np.int64) * n_services + services[rows])
    core = cells // n_services
    wide = np.flatnonzero(np.bincount(core) >= settings.min_occurrence_services)
    # A component lies within one burst (links never cross bursts).
    first_row = np.zeros(int(label.max()) + 1, dtype=np.int64)
    first_row[label[::-1]] = np.arange(len(rows))[::-1]
    result[own_burst[first_row[wide]]] = True
    return result


def _dense_windows(epochs: np.ndarray, settings: GroupingSettings) -> np.ndarray:
    """Mask of the incidents that lie in a window denser than the group's background.

    Scan statistic: with the group's average rate, a window of ``window_seconds`` expects
    ``rate * window`` incidents; a window starting at an incident is dense when it holds at
    least ``k`` of them, ``k`` the smallest count whose Poisson chance is below
    ``scan_alpha`` (and at least ``min_occurrence_incidents``). Every incident inside a dense
    window is kept. At low rates this is the plain gap chaining; at high rates (busy
    services, 1M alerts) background incidents stop chaining into day-long "storms".
    """
    count = len(epochs)
    if count == 0:
        return np.zeros(0, dtype=bool)
    span = max(float(epochs[-1] - epochs[0]), float(settings.window_seconds))
    expected = count * settings.window_seconds / span
    k = settings.min_occurrence_incidents
    while poisson.sf(k - 1, expected) >= settings.scan_alpha:
        k += 1
    ends = np.searchsorted(epochs, epochs + settings.window_seconds, side="right")
    dense_starts = np.flatnonzero(ends - np.arange(count) >= k)
    keep = np.zeros(count + 1, dtype=np.int64)
    # Mark [start, end) of every dense window with a difference array.
    np.add.at(keep, dense_starts, 1)
    np.add.at(keep, ends[dense_starts], -1)
    return np.cumsum(keep[:-1]) > 0
