"""Groups of alert types that fire together across services (the storm where one database
outage pages five teams), found with scikit-learn from the account's own history.

An *alert type* here is one template on one service. Two alert types are similar when they
fire in the same minutes far more often than chance would make them (temporal
co-occurrence, the main signal) and, as a secondary signal, when their templates read alike
(TF-IDF cosine): the same "connection refused" template on three services that depend on one
database. Text similarity only strengthens a pair that already co-occurs; on its own it never
joins two alert types, so the same template on unrelated services firing at unrelated times
stays apart. Which pairs count is calibrated on the account itself: the cut-off must pass
at most a tenth as many pairs in a decoy history (each service shifted by whole days) as in the
real one, else no cross-service group is formed. When resolution times are known, a second
signal, *joint events* (incidents on three or more services created *and* resolved within
minutes of each other, as when dependents recover with their root), adds the services of
triples that recur more than chance and vetoes cross-service co-firing between services
that never resolved together. Alert types are then clustered with average-linkage agglomerative clustering on
the combined distance (deterministic: no random state involved), and each cluster's
incidents are cut into *occurrences*: dense bursts of member incidents on at least three
services; where decoy histories reproduce such bursts (busy services), an occurrence must
also resolve together, and a group whose occurrences decoys still reproduce is dropped.

Pure: DataFrame in, DataFrames and quality figures out; no database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from etl.grouping import template_id


@dataclass(frozen=True)
class GroupingSettings:
    """Parameters of the co-firing model; stored with every group so a reader can see why."""

    window_seconds: int = 600  # two incidents "fire together" when at most this far apart
    min_occurrences: int = 3  # alert types rarer than this are not clustered
    min_cooccurrences: int = 3  # a pair must fire together at least this often ...
    min_lift: float = 2.0  # ... this many times more often than chance ...
    alpha: float = 0.1  # ... and a Poisson chance of that many below alpha
    saturation: float = 3.0  # co-firings beyond chance that make a pair fully similar
    min_similarity: float = 0.5  # average-linkage cut: 1 - distance_threshold
    text_weight: float = 0.25  # how much template similarity strengthens co-occurrence
    service_weight: float = 0.9  # weight of service-level co-firing for alert-type pairs
    min_occurrence_incidents: int = 3  # a storm occurrence has at least this many incidents
    min_occurrence_services: int = 3  # ... on at least this many services
    max_occurrence_seconds: int = 3600  # a longer chain is background density, not a storm
    scan_alpha: float = 1e-3  # a storm window is this unlikely under the group's base rate
    max_alert_types: int = 5000  # the most frequent alert types considered (memory bound)
    max_decoy_ratio: float = 0.1  # a cut-off is kept only if decoys pass <= this share of pairs
    decoys: int = 1  # decoy histories (days shifted per service) the cut-off is calibrated on
    decoy_seed: int = 7  # seed of the decoy day shifts (deterministic)
    # Joint events (needs resolved_at): incidents on 3 to 12 services, each open at least
    # joint_min_duration (shorter ones resolve together whenever they fire together), created
    # *and* resolved within joint_link_seconds of a neighbour (chained): a root going down
    # and its dependents recovering when it does.
    joint_link_seconds: int = 300
    joint_min_duration: int = 600
    min_joint_services: int = 3
    max_joint_services: int = 12  # a longer chain is background density, not an outage
    min_joint_recurrence: int = 2  # a service triple lies in at least this many joint events
    min_joint_confirm: int = 1  # cross-service co-firing needs at least this many shared events
    joint_decoys: int = 2  # decoy histories (days permuted per service) for joint events
    joint_max_decoy_ratio: float = 0.05  # the triple cut-off's false-discovery bound
    joint_similarity: float = 0.6  # service similarity of the pairs of a significant triple
    # A group is kept only if its decoy histories (joint_decoys, days permuted per service)
    # yield at most this share of its real occurrences (needs resolved_at).
    max_occurrence_decoy_ratio: float = 0.4


@dataclass
class GroupingResult:
    """What :func:`find_groups` found."""

    groups: pd.DataFrame  # one row per group
    assignments: pd.DataFrame  # incident_id, group_id, occurrence_id (incidents in bursts)
    quality: dict  # model-level figures, with the settings


def _labels(series: pd.Series) -> pd.Series:
    """A text column as a categorical with missing values as "" (cheap to compare, map and
    count at a million rows; the noise marts already pass categoricals)."""
    labels = series.astype(str).astype("category") if series.dtype != "category" else series
    labels = labels.cat.rename_categories([str(c) for c in labels.cat.categories])
    if labels.isna().any():
        if "" not in labels.cat.categories:
            labels = labels.cat.add_categories([""])
        labels = labels.fillna("")
    return labels


def _key(frame: pd.DataFrame) -> pd.Series:
    """The alert type of each incident, "template_id|service_id", as a categorical (the text
    is built once per distinct pair, not once per incident)."""
    templates = _labels(frame["template_id"]).cat
    services = _labels(frame["service_id"]).cat
    pair = templates.codes.to_numpy(np.int64) * len(services.categories) + services.codes.to_numpy(
        np.int64
    )
    codes, uniques = pd.factorize(pair)
    width = len(services.categories)
    names = [
        f"{templates.categories[u // width]}|{services.categories[u % width]}" for u in uniques
    ]
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=names), index=frame.index, name="key"
    )


def _by_time(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` in (epoch, incident_id) order; input already in that order (the noise marts
    read it so from DuckDB) is only checked, not sorted again."""
    epoch = frame["epoch"].to_numpy()
    steps = np.diff(epoch)
    in_order = bool((steps >= 0).all())
    if in_order:
        ties = np.flatnonzero(steps == 0)
        ids = frame["incident_id"].to_numpy()
        in_order = all(ids[i] <= ids[i + 1] for i in ties)
    if in_order:
        return frame.reset_index(drop=True)
    return frame.sort_values(["epoch", "incident_id"], kind="stable").reset_index(drop=True)


def cooccurrence_similarity(
    times: np.ndarray,
    keys: np.ndarray,
    n_keys: int,
    settings: GroupingSettings,
    shift_group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """How strongly two series of incidents fire together, beyond chance, at a cut-off
    calibrated on decoy histories of the same data.

    Per pair (see :func:`_pair_statistics`): co-firing count, its expectation under
    independent series with the same hour-of-week profiles, lift and the Poisson chance of at
    least that count. A pair is a *candidate* when it co-fired at least ``min_cooccurrences``
    times, ``min_lift`` times more than expected, with a chance below ``alpha``. That fixed
    test is not enough on its own: with thousands of pairs and busy services (scale 4: ~7
    incidents per service and day) chance candidates are as many as real ones.

    So the cut-off on the chance is chosen from the data (empirical false-discovery control):
    the same statistics are computed on ``decoys`` decoy histories where every
    ``shift_group`` (a service; by default each series) has its times moved by a seeded whole
    number of days, wrapped within the history. That keeps every series' daily seasonality
    and rate and breaks the links between services. The cut-off is the largest chance ``c``
    at which decoy candidates (mean over decoys) with chance <= ``c`` are at most
    ``max_decoy_ratio`` times the real ones; only pairs of different shift groups are counted
    (same-group pairs keep their links in a decoy). When no cut-off qualifies, no pair is
    significant: the data cannot tell linked services from chance. (A Bonferroni correction
    was tried earlier: it drops roots with two or three outages in 90 days, ARI 0.58.)

    Similarity of a significant pair: the count in excess of chance over ``saturation``
    (capped at 1): a storm seen three times is as strong evidence as one seen thirty times,
    while the many unrelated background incidents of a busy service do not dilute it.

    Returns similarity, co-occurrence counts, lift (observed / expected) and the calibration
    figures (candidates, decoy candidates, cut-off, pairs kept).
    """
    times = np.asarray(times, dtype="float64")
    keys = np.asarray(keys, dtype=np.int64)
    groups = np.arange(n_keys) if shift_group is None else np.asarray(shift_group)
    together, expected, lift, chance = _pair_statistics(times, keys, n_keys, settings)
    candidate = _candidates(together, lift, chance, settings)
    cross = np.triu(groups[:, None] != groups[None, :], k=1)
    real_chance = np.sort(chance[candidate & cross])
    calibration: dict = {
        "candidate_pairs": int(len(real_chance)),
        "decoys": settings.decoys,
        "max_decoy_ratio": settings.max_decoy_ratio,
    }
    decoy_chances = []
    for decoy in range(settings.decoys):
        shifted = _decoy_times(times, groups[keys], settings.decoy_seed + decoy)
        if shifted is None:  # under two days of history: nothing to shift
            decoy_chances = []
            break
        d_together, _, d_lift, d_chance = _pair_statistics(shifted, keys, n_keys, settings)
        d_candidate = _candidates(d_together, d_lift, d_chance, settings)
        decoy_chances.append(np.sort(d_chance[d_candidate & cross]))
    cutoff, passing = _decoy_cutoff(real_chance, decoy_chances, settings.max_decoy_ratio)
    if passing is not None:
        calibration["decoy_pairs_passing"] = passing
    calibration["decoy_candidate_pairs"] = (
        float(np.mean([len(d) for d in decoy_chances])) if decoy_chances else None
    )
    calibration["calibrated"] = cutoff >= 0
    calibration["chance_cutoff"] = cutoff if cutoff >= 0 else None
    significant = candidate & (chance <= cutoff)
    calibration["pairs_passing"] = int((significant & cross).sum())
    excess = np.maximum(together - expected, 0.0)
    similarity = np.where(significant, np.minimum(1.0, excess / settings.saturation), 0.0)
    np.fill_diagonal(similarity, 1.0)
    return similarity, together, lift, calibration


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


def _candidates(
    together: np.ndarray, lift: np.ndarray, chance: np.ndarray, settings: GroupingSettings
) -> np.ndarray:
    """Pairs passing the fixed test (count, lift, chance below ``alpha``), symmetric."""
    return (
        (together >= settings.min_cooccurrences)
        & (lift >= settings.min_lift)
        & (chance < settings.alpha)
    )


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
    members = _decode_units(units[keep], n_services, 3)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        similarity[members[:, i], members[:, j]] = settings.joint_similarity
        similarity[members[:, j], members[:, i]] = settings.joint_similarity
    # How many joint events two services must share before their co-firing is believed:
    # the smallest count (from ``min_joint_confirm``) at which decoy pairs sharing that many
    # are at most ``max_decoy_ratio`` of the real ones (1 on a quiet account, where chance
    # joint events are rare; more on a busy one). None qualifying: every cross-service
    # co-firing pair is vetoed.
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
    return similarity, confirmed, calibration


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


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort, faster than ``np.unique``'s hashing on int64)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


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


def _pair_statistics(
    times: np.ndarray, keys: np.ndarray, n_keys: int, settings: GroupingSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Co-firing count, expected count, lift and Poisson chance for every pair of series.

    Buckets are half a window wide; a series is *present* in a bucket when it has an incident
    there. Two series fire together in a bucket when one is present and the other is present
    in that bucket or a neighbour (so incidents up to one window apart always count). The
    expectation is what independent series with the same hour-of-week profiles would give.
    """
    width = max(1, settings.window_seconds // 2)
    bucket = np.floor(np.asarray(times, dtype="float64") / width).astype(np.int64)
    bucket -= bucket.min() if len(bucket) else 0
    n_buckets = int(bucket.max(initial=0)) + 2
    presence = sparse.csr_matrix(
        (np.ones(len(keys), dtype=np.float32), (keys, bucket)), shape=(n_keys, n_buckets)
    )
    presence.sum_duplicates()
    presence.data[:] = 1.0  # several incidents in one bucket count once
    dilate = (
        sparse.eye(n_buckets, format="csr", dtype=np.float32)
        + sparse.eye(n_buckets, k=1, format="csr", dtype=np.float32)
        + sparse.eye(n_buckets, k=-1, format="csr", dtype=np.float32)
    )
    dilated = presence @ dilate
    dilated.data[:] = 1.0
    together = (presence @ dilated.T).toarray()
    together = np.minimum(together, together.T)  # symmetric, conservative
    # Expected co-firing of independent series *given the hour of the week*: alerts share
    # daily and weekly seasonality, and a uniform-time null would call every busy pair
    # related. Sum over the 168 hours of presence_a(h) * dilated_b(h) / buckets(h).
    seconds = (
        np.arange(n_buckets, dtype=np.int64) * width + int(np.floor(np.min(times) / width)) * width
    )
    hour_of_week = ((seconds // 3600 + 72) % 168).astype(np.int64)  # epoch 0 was a Thursday
    hours = sparse.csr_matrix(
        (np.ones(n_buckets, dtype=np.float32), (np.arange(n_buckets), hour_of_week)),
        shape=(n_buckets, 168),
    )
    per_hour = np.asarray(hours.sum(axis=0)).ravel()
    inverse = sparse.diags(np.where(per_hour > 0, 1.0 / np.maximum(per_hour, 1), 0.0))
    present_h = presence @ hours
    spread_h = dilated @ hours
    forward = (present_h @ inverse @ spread_h.T).toarray()
    expected = np.maximum(forward, forward.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(expected > 0, together / expected, 0.0)
    # The Poisson tail only where the count and lift can pass (a few pairs of millions).
    chance = np.ones_like(together, dtype="float64")
    testable = (together >= settings.min_cooccurrences) & (lift >= settings.min_lift)
    chance[testable] = poisson.sf(together[testable] - 1, np.maximum(expected[testable], 1e-12))
    return together, expected, lift, chance


def find_groups(
    incidents: pd.DataFrame, settings: GroupingSettings | None = None
) -> GroupingResult:
    """Cluster alert types that fire together, and cut their incidents into occurrences.

    ``incidents`` needs: incident_id, created_at (tz-aware or epoch seconds), template_id,
    template, service_id; with resolved_at (NaN/NaT: still open) joint events are used too
    (:func:`joint_event_similarity`). Deterministic for a given input (sorted internally).

    Similarity of two alert types a, b (on services s, t):
    ``max(type_cooccurrence(a, b), service_weight * service_cooccurrence(s, t))`` plus
    ``text_weight * tfidf_cosine(a, b)`` when that is positive. The service level catches
    storms whose alert texts differ from one outage to the next (a database outage fires
    whatever alerts each dependent service has); for two alert types of one service it is
    that service's strongest co-firing with any other service, so a service that takes part
    in storms keeps its alert types together. With joint events, a cross-service pair (of
    either level) keeps its co-firing similarity only if its services share
    ``min_joint_confirm`` joint events, and the pairs of a significant triple get
    ``joint_similarity`` at the service level.
    """
    settings = settings or GroupingSettings()
    columns = ["incident_id", "created_at", "template_id", "template", "service_id"]
    joint = "resolved_at" in incidents.columns  # joint events need resolution times
    frame = incidents[[*columns, "resolved_at"] if joint else columns].copy()
    frame["service_id"] = _labels(frame["service_id"])
    frame["epoch"] = _epoch_seconds(frame["created_at"])
    if joint:
        frame["resolved_epoch"] = _epoch_seconds(frame.pop("resolved_at"))
        # Without resolution times for most incidents, joint events would veto every
        # cross-service link: fall back to co-firing alone.
        joint = bool(len(frame)) and bool(frame["resolved_epoch"].notna().mean() >= 0.5)
    frame["key"] = _key(frame)
    frame = _by_time(frame)

    counts = frame["key"].value_counts()
    counts = counts[counts > 0]
    eligible = counts[counts >= settings.min_occurrences]
    eligible = eligible.sort_values(ascending=False, kind="stable").head(settings.max_alert_types)
    keys = sorted(eligible.index)
    quality: dict = {
        "settings": asdict(settings),
        "joint_events": joint,
        "alert_types": int(len(counts)),
        "alert_types_clustered": len(keys),
    }
    if len(keys) < 2:
        return GroupingResult(_empty_groups(), _empty_assignments(), quality | {"groups": 0})

    index_of = {k: i for i, k in enumerate(keys)}
    members = frame[frame["key"].isin(index_of)]
    key_index = np.asarray(members["key"].map(index_of), dtype=np.int64)
    services = sorted(set(frame["service_id"].unique()))
    service_of = {s: i for i, s in enumerate(services)}
    key_service = np.array([service_of[k.split("|", 1)[1]] for k in keys])
    # Decoys shift whole services, so alert types of one service keep their relative timing.
    type_similarity, _, lift, type_calibration = cooccurrence_similarity(
        members["epoch"].to_numpy(), key_index, len(keys), settings, shift_group=key_service
    )
    service_similarity, _, _, service_calibration = cooccurrence_similarity(
        frame["epoch"].to_numpy(),
        np.asarray(frame["service_id"].map(service_of), dtype=np.int64),
        len(services),
        settings,
    )
    joint_calibration = None
    if joint:
        # Cross-service co-firing is believed only for service pairs that also resolved
        # together (in min_joint_confirm joint events); recurring joint triples add links.
        joint_similarity, confirmed, joint_calibration = joint_event_similarity(
            frame["epoch"].to_numpy(),
            frame["resolved_epoch"].to_numpy(),
            np.asarray(frame["service_id"].map(service_of), dtype=np.int64),
            len(services),
            settings,
        )
        service_similarity = np.maximum(
            joint_similarity, np.where(confirmed, service_similarity, 0.0)
        )
        type_similarity[~confirmed[np.ix_(key_service, key_service)]] = 0.0  # in place
    calibrated = (
        type_calibration["calibrated"]
        or service_calibration["calibrated"]
        or bool(joint_calibration and joint_calibration["calibrated"])
    )
    quality["calibration"] = {
        "alert_type_pairs": type_calibration,
        "service_pairs": service_calibration,
        "joint_events": joint_calibration,
        # Neither level separates linked services from decoys: no cross-service groups.
        "cross_service_groups": (
            "allowed: calibrated cut-off"
            if calibrated
            else "none: no cut-off where decoys pass <= max_decoy_ratio of the pairs"
        ),
    }
    empty = GroupingResult(_empty_groups(), _empty_assignments(), quality | {"groups": 0})
    np.fill_diagonal(service_similarity, 0.0)
    strongest = service_similarity.max(axis=1)
    np.fill_diagonal(service_similarity, strongest)
    lifted = settings.service_weight * service_similarity[np.ix_(key_service, key_service)]
    temporal = np.maximum(type_similarity, lifted)
    template_of_key = members.drop_duplicates("key").set_index("key")["template"]
    texts = [template_of_key[k].replace("<*>", " ") for k in keys]
    text_similarity = _text_similarity(texts)
    combined = np.where(
        temporal > 0, np.minimum(1.0, temporal + settings.text_weight * text_similarity), 0.0
    )
    np.fill_diagonal(combined, 1.0)
    # Only alert types with at least one significant partner can form a group; clustering the
    # rest is wasted work (and they are the vast majority).
    linked = np.flatnonzero((combined > 0).sum(axis=1) > 1)
    if len(linked) < 2:
        return empty
    distance = 1.0 - combined[np.ix_(linked, linked)]
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=1.0 - settings.min_similarity,
    )
    labels = model.fit_predict(distance)

    group_of_key: dict[str, str] = {}
    clusters: dict[str, np.ndarray] = {}
    for label in sorted(set(labels)):
        local = np.flatnonzero(labels == label)
        if len(local) < 2:
            continue
        member_idx = linked[local]
        group_id = "G" + template_id("\n".join(keys[i] for i in member_idx))[:12]
        clusters[group_id] = member_idx
        for i in member_idx:
            group_of_key[keys[i]] = group_id
    if not clusters:
        return empty
    assigned = _occurrences(frame, group_of_key, service_similarity, service_of, settings, joint)
    occurrence_calibration = assigned.attrs.get("calibration", {})

    rows = []
    for group_id, member_idx in sorted(clusters.items()):
        occurrences = assigned[assigned["group_id"] == group_id]
        if occurrences.empty:
            continue
        sub = combined[np.ix_(member_idx, member_idx)]
        n = len(member_idx)
        cohesion = float((sub.sum() - n) / (n * (n - 1)))
        member_keys = [keys[i] for i in member_idx]
        seen = occurrences.drop_duplicates("key")
        epochs = occurrences.groupby("occurrence_id")["epoch"]
        spans = epochs.max() - epochs.min()
        pair_lift = lift[np.ix_(member_idx, member_idx)][~np.eye(n, dtype=bool)]
        rows.append(
            {
                "group_id": group_id,
                "member_keys": sorted(set(seen["key"])),
                "template_ids": sorted(set(seen["template_id"])),
                "templates": sorted(set(seen["template"])),
                "service_ids": sorted(set(seen["service_id"])),
                "alert_types": int(seen["key"].nunique()),
                "occurrences": int(occurrences["occurrence_id"].nunique()),
                "incidents_in_occurrences": int(len(occurrences)),
                "member_incidents": int(counts[member_keys].sum()),
                "p50_spread_seconds": float(np.percentile(spans, 50)),
                "p90_spread_seconds": float(np.percentile(spans, 90)),
                "cohesion": round(cohesion, 4),
                "max_pair_lift": round(float(pair_lift.max()), 2) if len(pair_lift) else 0.0,
                "first_seen": occurrences["created_at"].min(),
                "last_seen": occurrences["created_at"].max(),
            }
        )
    groups = pd.DataFrame(rows) if rows else _empty_groups()
    assigned = assigned[assigned["group_id"].isin(set(groups["group_id"]))]
    assigned = assigned[["incident_id", "group_id", "occurrence_id"]].reset_index(drop=True)
    quality |= {
        "groups": int(len(groups)),
        "linked_alert_types": int(len(linked)),
        "incidents_in_groups": int(len(assigned)),
        # Per clustered group (with resolution times): the occurrence test used and its
        # occurrences in the real history vs the mean over decoys.
        "occurrence_calibration": occurrence_calibration,
    }
    return GroupingResult(groups, assigned, quality)


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
            # Calibrated on decoys: the group's incidents with every service's days
            # permuted (hour of day and rate kept, cross-service timing broken). Bursts
            # that chance seldom reproduces (quiet services) are kept as they are; else an
            # occurrence also needs a joint core (its incidents resolving together), and a
            # group whose cored occurrences chance still reproduces (busy services peaking
            # at the same hours) is background, not storms: dropped.
            decoys = []
            for decoy in range(settings.joint_decoys):
                shifted = _decoy_days(times, service_rows, settings.decoy_seed + decoy)
                if shifted is None:  # under two days of history: no calibration
                    break
                order = np.argsort(shifted, kind="stable")
                decoys.append((shifted[order], order))

            arrays = (own_rows, service_rows)
            real = int(valid.sum())
            decoy_count = _decoy_occurrences(decoys, *arrays, None, n_services, settings)
            test = "bursts"
            if decoy_count > settings.max_decoy_ratio * real:
                durations = open_for[rows]
                burst, valid, start = _bursts(times, *arrays, durations, n_services, settings)
                real, test = int(valid.sum()), "joint cores"
                decoy_count = _decoy_occurrences(decoys, *arrays, durations, n_services, settings)
            calibration[group_id] = {
                "test": test,
                "occurrences": real,
                "decoy_occurrences": decoy_count,
            }
            # One cored occurrence on busy services is too little to tell from chance (a
            # decoy rate of 0.3 shows as 0 in two decoys): recurring, as for joint triples.
            least = settings.min_joint_recurrence if test == "joint cores" else 1
            if real < least or decoy_count > settings.max_occurrence_decoy_ratio * real:
                calibration[group_id]["dropped"] = True
                continue
        keep = np.zeros(len(rows), dtype=bool)
        keep[burst >= 0] = valid[burst[burst >= 0]]
        part = candidates.iloc[rows[keep]].copy()
        part["group_id"] = group_id
        part["burst_size"] = np.bincount(burst[keep])[burst[keep]]
        part["occurrence_id"] = group_id + "-" + start[burst[keep]].astype("int64").astype(str)
        pieces.append(part)
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


def _text_similarity(texts: list[str]) -> np.ndarray:
    if len(texts) < 2:
        return np.ones((len(texts), len(texts)))
    vectorizer = TfidfVectorizer(token_pattern=r"(?u)\b[A-Za-z][A-Za-z]+\b", lowercase=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no words at all (templates made only of values)
        return np.zeros((len(texts), len(texts)))
    return cosine_similarity(matrix)


def _epoch_seconds(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    stamps = pd.to_datetime(values, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def _empty_groups() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "group_id",
            "member_keys",
            "template_ids",
            "templates",
            "service_ids",
            "alert_types",
            "occurrences",
            "incidents_in_occurrences",
            "member_incidents",
            "p50_spread_seconds",
            "p90_spread_seconds",
            "cohesion",
            "max_pair_lift",
            "first_seen",
            "last_seen",
        ]
    )


def _empty_assignments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": pd.Series(dtype=str),
            "group_id": pd.Series(dtype=str),
            "occurrence_id": pd.Series(dtype=str),
        }
    )
