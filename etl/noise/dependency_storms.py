"""Storms read from the account's service dependencies (PagerDuty's Service Graph).

When a supporting service (a database, a queue) goes down, the services that depend on it
fire within minutes. Where the account has recorded its dependencies
(``GET /service_dependencies/technical_services/{id}``, synced into
``stg_service_dependencies``), a storm needs no statistics to be recognised: incidents on a
supporting service and its dependents, created in one burst on at least
``min_dependency_services`` of those services, are one occurrence. The co-firing model
(:mod:`etl.noise.groups`) has to learn the same from repeated co-occurrence, which a storm
that happens once or twice cannot give it, and which a busy account's chance coincidences
drown (docs/grouping.md, "Storms from the service graph").

A *neighbourhood* is a supporting service and its direct dependents. Its incidents, in
creation order, are chained while each starts within ``dependency_link_seconds`` of the
previous one and within ``dependency_max_seconds`` of the first (a longer chain is a busy
hour, not one outage). A *burst* is a chain on at least ``min_dependency_coverage`` of the
neighbourhood's services (and at least ``min_dependency_services``: an outage takes its
dependents down with it, a coincidence of busy services touches a few of them), whose
incidents on ``min_dependency_joint`` services also resolve together when resolution times
are known (dependents recover when their supporting service does). Bursts that chance alone
would produce are not believed: ``dependency_decoys`` decoy histories of the neighbourhood
(every incident moved by up to ``dependency_jitter_seconds`` either way: the same services,
counts and busy hours, no shared minutes) give chance's rate of bursts, and the
neighbourhood forms a group only when its real number of bursts is that unlikely under it
(a Poisson chance below ``dependency_alpha``). Bursts are counted at up to three strengths,
each tested at an equal share of ``dependency_alpha``: any burst *led by the supporting
service* (an outage pages where it starts; busy services meeting by chance put it first only
now and then); one whose services resolving together are as many as it must cover (an
outage recovering at once, which busy services rarely copy by chance), led or not; and one on
which every service of the neighbourhood recovers together. The weakest strength believed
decides which bursts are kept. Decoys stop once the decision is settled. An incident belongs
to at most one burst: the neighbourhoods are read largest first.

Each neighbourhood with a believed burst is a group (``group_id`` from the supporting
service), its bursts are the group's occurrences. Pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from etl.noise.settings import GroupingSettings
from etl.noise.templates import template_id

# The columns of one edge list: a supporting service and a service that depends on it.
EDGE_COLUMNS = ("supporting_service_id", "dependent_service_id")

# A burst's strength: how many of its services resolved together (or, without resolution
# times, how many it covers), then whether the supporting service led it. Compared as tuples,
# a led burst is half a step stronger than an unled one of the same count.
Strength = tuple[int, bool]


def neighbourhoods(edges: pd.DataFrame) -> dict[str, list[str]]:
    """Supporting service -> its neighbourhood (itself and its direct dependents, sorted)."""
    found: dict[str, set[str]] = {}
    pairs = edges[list(EDGE_COLUMNS)].dropna()
    for supporting, dependent in pairs.itertuples(index=False):
        if supporting and dependent and supporting != dependent:
            found.setdefault(str(supporting), {str(supporting)}).add(str(dependent))
    return {root: sorted(services) for root, services in sorted(found.items())}


@dataclass(frozen=True)
class _History:
    """Incidents in creation order as arrays: creation and resolution epochs, service codes
    and row positions in the whole frame."""

    created: np.ndarray
    resolved: np.ndarray
    services: np.ndarray
    positions: np.ndarray

    def take(self, index: np.ndarray) -> _History:
        return _History(
            self.created[index], self.resolved[index], self.services[index], self.positions[index]
        )


def components(edges: pd.DataFrame) -> dict[str, str]:
    """Service -> a name of its connected component in the dependency graph (services the
    graph does not mention are left out)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for supporting, dependent in edges[list(EDGE_COLUMNS)].dropna().itertuples(index=False):
        a, b = find(str(supporting)), find(str(dependent))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {service: find(service) for service in sorted(parent)}


def contradicted(service_ids: list[str], component: dict[str, str]) -> bool:
    """Whether the graph says some of these services are unrelated: two of them that it
    records are in different connected components. A service the graph does not mention
    proves nothing either way, but it does not make the recorded ones related."""
    known = {component[str(s)] for s in service_ids if str(s) in component}
    return len(known) > 1


def dependency_bursts(
    incidents: pd.DataFrame, edges: pd.DataFrame, settings: GroupingSettings | None = None
) -> tuple[pd.DataFrame, dict]:
    """The incidents in a believed burst of a dependency neighbourhood.

    ``incidents`` needs incident_id, service_id and epoch (creation time in seconds), and
    may have resolved_epoch; ``edges`` the columns of :data:`EDGE_COLUMNS`. Returns
    (assignments, calibration): incident_id, group_id, occurrence_id, root_service_id for
    every incident in a burst, and per neighbourhood its bursts against the decoys'."""
    settings = settings or GroupingSettings()
    empty = pd.DataFrame(columns=["incident_id", "group_id", "occurrence_id", "root_service_id"])
    areas = neighbourhoods(edges)
    if not areas or incidents.empty:
        return empty, {}
    frame = incidents.dropna(subset=["epoch"])
    if frame.empty:
        return empty, {}
    frame = frame.assign(service_id=frame["service_id"].astype(str))
    frame = frame.sort_values(["epoch", "incident_id"], kind="stable").reset_index(drop=True)
    codes, names = pd.factorize(frame["service_id"])
    resolved = (
        frame["resolved_epoch"].to_numpy(np.float64)
        if "resolved_epoch" in frame
        else np.full(len(frame), np.nan)
    )
    history = _History(frame["epoch"].to_numpy(np.float64), resolved, codes, np.arange(len(frame)))
    # Resolving together is asked only when most incidents have a resolution time.
    joint = bool(np.mean(~np.isnan(resolved)) >= 0.5)
    code_of = {name: code for code, name in enumerate(names)}
    # Each service's rows, found once (not once per neighbourhood it is in).
    by_service = np.argsort(codes, kind="stable")
    rows_of = np.split(by_service, np.cumsum(np.bincount(codes, minlength=len(names)))[:-1])
    ids = frame["incident_id"].to_numpy()
    taken = np.zeros(len(frame), dtype=bool)
    rows: list[tuple[str, str, str, str]] = []
    calibration: dict[str, dict] = {}
    # Largest neighbourhoods first: a service shared by two supporting services goes to the
    # outage that takes more services down with it.
    for root, services in sorted(areas.items(), key=lambda item: (-len(item[1]), item[0])):
        if len(services) < settings.min_dependency_services:
            continue
        least = max(
            settings.min_dependency_services,
            int(np.ceil(settings.min_dependency_coverage * len(services) - 1e-9)),
        )
        inside = np.zeros(len(codes), dtype=bool)
        for service in services:
            if service in code_of:
                inside[rows_of[code_of[service]]] = True
        burst = _BurstRule(least, code_of.get(root, -1), joint)
        real = _bursts(history.take(np.flatnonzero(inside & ~taken)), burst, settings)
        levels = _levels(burst, len(services), settings)
        decoys = _decoy_bursts(history.take(np.flatnonzero(inside)), real, levels, burst, settings)
        level, chance = _believed_level(real, decoys, levels, settings)
        calibration[root] = {
            "bursts": len(real),
            "levels": [count for count, _ in levels],
            "led": [led for _, led in levels],
            "decoy_bursts": [sum(c[k] for c in decoys) for k in range(len(levels))],
            "decoys": len(decoys),
            "chance": round(chance, 6),
            "kept": level is not None,
            "level": None if level is None else level[0],
        }
        if level is None:
            continue
        group_id = "G" + template_id(f"dependency|{root}")[:12]
        for first, index, strength in real:
            if strength < level:
                continue
            taken[index] = True
            rows.extend((i, group_id, f"{group_id}-{int(first)}", root) for i in ids[index])
    return pd.DataFrame(rows, columns=empty.columns) if rows else empty, calibration


@dataclass(frozen=True)
class _BurstRule:
    """What makes a chain a burst of one neighbourhood: ``least`` services covered; ``lead``,
    the supporting service's code (-1 when it has no incidents); ``joint``, whether strength is
    the services resolving together (else the services covered)."""

    least: int
    lead: int
    joint: bool


def _levels(burst: _BurstRule, size: int, settings: GroupingSettings) -> list[Strength]:
    """The strengths a neighbourhood of ``size`` services is tested at: any burst led by the
    supporting service (``min_dependency_joint`` services resolving together; busy services
    copy this weak kind by chance, but seldom with the supporting service paging first); one
    whose services resolving together are as many as the burst must cover (``burst.least``:
    an outage recovering at once, which chance rarely copies), led or not; and one on which every
    service of the neighbourhood recovers together (rarer still by chance: in a busy
    neighbourhood the decoys copy the second level often enough to hide a single storm,
    seldom the third). Without resolution times, one level: the services covered."""
    least = burst.least
    if not burst.joint:
        return [(least, False)]
    weakest = settings.min_dependency_joint
    strong = {(max(weakest, least), False), (max(weakest, size), False)}
    return sorted(strong | ({(weakest, True)} if weakest < least else set()))


def _strong(bursts: list[tuple[float, np.ndarray, Strength]], level: Strength) -> int:
    """How many of ``bursts`` (as :func:`_bursts` gives them) are at least ``level`` strong."""
    return sum(strength >= level for _, _, strength in bursts)


def _decoy_bursts(
    part: _History,
    real: list[tuple[float, np.ndarray, Strength]],
    levels: list[Strength],
    burst: _BurstRule,
    settings: GroupingSettings,
) -> list[list[int]]:
    """Per decoy of the neighbourhood (in seed order), its bursts at each level. Stops early
    once no level can be believed whatever the remaining decoys show (more decoy bursts only
    make the real ones likelier), or once the weakest level is believed even at the upper
    confidence bound of the decoys' rate so far (:func:`_settled`); at once when there are
    no real bursts."""
    counts: list[list[int]] = []
    if not real:
        return counts
    alpha = settings.dependency_alpha / len(levels)
    planned = settings.dependency_decoys
    for seed in range(settings.decoy_seed, settings.decoy_seed + planned):
        found = _bursts(_decoy(part, settings, seed), burst, settings)
        counts.append([_strong(found, level) for level in levels])
        seen = [sum(c[k] for c in counts) for k in range(len(levels))]
        if all(
            _chance(_strong(real, level), seen[k], planned) >= alpha
            for k, level in enumerate(levels)
        ):
            break
        if len(counts) < planned and _settled(
            _strong(real, levels[0]), seen[0], len(counts), alpha
        ):
            break
    return counts


def _believed_level(
    real: list[tuple[float, np.ndarray, Strength]],
    decoys: list[list[int]],
    levels: list[Strength],
    settings: GroupingSettings,
) -> tuple[Strength | None, float]:
    """The weakest level whose real bursts chance explains with probability below
    ``dependency_alpha`` shared between the levels (Bonferroni), and its chance; (None, the
    least chance) when none. The decoys' rate is their bursts over the planned decoys, or,
    when the decoys stopped early because the weakest level was settled, the upper
    confidence bound of the rate of those run."""
    alpha = settings.dependency_alpha / len(levels)
    planned = settings.dependency_decoys
    early = 0 < len(decoys) < planned
    least_chance = 1.0
    for k, level in enumerate(levels):
        bursts = _strong(real, level)
        if not bursts:
            continue
        seen = sum(c[k] for c in decoys)
        if early and k == 0 and _settled(bursts, seen, len(decoys), alpha):
            return level, _chance(bursts, _upper_rate(seen, alpha), len(decoys))
        chance = _chance(bursts, seen, planned)
        if chance < alpha:
            return level, chance
        least_chance = min(least_chance, chance)
    return None, least_chance


def _upper_rate(decoy_bursts: int, alpha: float) -> float:
    """The upper ``1 - alpha`` confidence bound of a Poisson count of ``decoy_bursts``."""
    return float(stats.chi2.ppf(1 - alpha, 2 * (decoy_bursts + 1)) / 2)


def _settled(bursts: int, decoy_bursts: int, decoys: int, alpha: float) -> bool:
    """Whether ``bursts`` real bursts stay below ``alpha`` even at the upper confidence bound
    of the decoys' rate so far: the remaining decoys cannot plausibly change the decision."""
    return bursts > 0 and _chance(bursts, _upper_rate(decoy_bursts, alpha), decoys) < alpha


def _chance(bursts: int, decoy_bursts: float, decoys: int) -> float:
    """The Poisson chance of at least ``bursts`` bursts when chance alone makes the decoys'
    rate: ``decoy_bursts`` over ``decoys`` (at least half a burst in all: a decoy count of
    zero is not a rate of zero); 0.0 when there are no decoys (nothing to compare with:
    believed), 1.0 when there are no bursts."""
    if bursts <= 0:
        return 1.0
    if not decoys:
        return 0.0
    rate = max(decoy_bursts, 0.5) / decoys
    return float(stats.poisson.sf(bursts - 1, rate))


def _bursts(
    history: _History, burst: _BurstRule, settings: GroupingSettings
) -> list[tuple[float, np.ndarray, Strength]]:
    """(first creation epoch, row positions, strength) of each chain of ``history`` (in
    creation order) on at least ``burst.least`` services. When ``burst.joint``, its strength
    counts its services that resolved together (:func:`_joint_services`), at least
    ``min_dependency_joint``; otherwise the services it covers. Either way with whether the
    supporting service led it (:func:`_led`)."""
    created, services = history.created, history.services
    least, joint = burst.least, burst.joint
    if len(created) < least:
        return []
    # Chains by the link alone, and their distinct services, vectorised: only chains on
    # enough services are walked, cut where they outlast dependency_max_seconds (a part of
    # a chain never has more services than the chain).
    breaks = np.flatnonzero(np.diff(created) > settings.dependency_link_seconds) + 1
    starts = np.concatenate([[0], breaks]).astype(np.int64)
    ends = np.append(breaks, len(created)).astype(np.int64)
    sizes = ends - starts
    long = sizes >= least  # fewer incidents than services needed: most chains, skipped
    chain = np.repeat(np.arange(len(starts)), sizes)[np.repeat(long, sizes)]
    width = int(services.max()) + 1
    pairs = np.unique(chain * width + services[np.repeat(long, sizes)])
    distinct = np.bincount(pairs // width, minlength=len(starts))
    # The pieces of each such chain: from its first incident, all created within
    # dependency_max_seconds of it, then the same from the next one left.
    reach = np.searchsorted(created, created + settings.dependency_max_seconds, side="right")
    reach = reach.tolist()
    first_of, end_of = [], []
    for first, last in zip(
        starts[distinct >= least].tolist(), ends[distinct >= least].tolist(), strict=True
    ):
        start = first
        while start < last:
            end = min(reach[start], last)
            first_of.append(start)
            end_of.append(end)
            start = end
    if not first_of:
        return []
    first_of, end_of = np.array(first_of), np.array(end_of)
    covered = _distinct_per_piece(first_of, end_of, services, width)
    enough = np.flatnonzero(covered >= least)
    if joint:
        strength = _joint_services(first_of[enough], end_of[enough], history, width, settings)
        floor = settings.min_dependency_joint
    else:
        strength, floor = covered[enough], least
    found = []
    for k in np.flatnonzero(strength >= floor).tolist():
        cut = slice(int(first_of[enough[k]]), int(end_of[enough[k]]))
        led = _led(services[cut], burst)
        found.append((created[cut.start], history.positions[cut], (int(strength[k]), led)))
    return found


def _pieces(first: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row positions of the pieces ``[first, end)`` one after another, and each one's piece."""
    sizes = end - first
    piece = np.repeat(np.arange(len(first)), sizes)
    return np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes) + first[piece], piece


def _distinct_per_piece(
    first: np.ndarray, end: np.ndarray, services: np.ndarray, width: int
) -> np.ndarray:
    """How many distinct services each piece ``[first, end)`` of the history holds."""
    rows, piece = _pieces(first, end)
    pairs = np.unique(piece * width + services[rows])
    return np.bincount(pairs // width, minlength=len(first))


def _led(services: np.ndarray, burst: _BurstRule) -> bool:
    """Whether the supporting service leads a burst of these services (in creation order): it
    pages in it, and from its first incident on the burst still covers ``burst.least``
    services. A dependent paging a minute before, for its own reasons, does not unseat it."""
    own = np.flatnonzero(services == burst.lead)
    return bool(len(own)) and len(set(services[own[0] :].tolist())) >= burst.least


def _joint_services(
    first: np.ndarray,
    end: np.ndarray,
    history: _History,
    width: int,
    settings: GroupingSettings,
) -> np.ndarray:
    """Per piece ``[first, end)`` of the history, the most services whose incidents, each
    open at least ``joint_min_duration`` (shorter ones resolve together whenever they fire
    together), resolved within ``joint_link_seconds`` of one another (chained): dependents
    recovering when their supporting service does."""
    rows, piece = _pieces(first, end)
    created, resolved = history.created[rows], history.resolved[rows]
    open_long = ~np.isnan(resolved) & (resolved - created >= settings.joint_min_duration)
    rows, piece, resolved = rows[open_long], piece[open_long], resolved[open_long]
    most = np.zeros(len(first), np.int64)
    if not len(rows):
        return most
    order = np.lexsort((resolved, piece))  # by piece, then resolution (stable on ties)
    piece, times = piece[order], resolved[order]
    new = np.ones(len(order), bool)
    new[1:] = (piece[1:] != piece[:-1]) | (np.diff(times) > settings.joint_link_seconds)
    link = np.cumsum(new) - 1
    pairs = np.unique(link * width + history.services[rows[order]])
    together = np.bincount(pairs // width, minlength=int(link[-1]) + 1)
    np.maximum.at(most, piece[new], together)
    return most


def _decoy(part: _History, settings: GroupingSettings, seed: int) -> _History:
    """The neighbourhood's history with every incident moved by its own random offset of up
    to ``dependency_jitter_seconds`` either way (from ``seed``), its duration kept: each
    service keeps its counts and, within hours, its daily and weekly rhythm (busy hours stay
    busy), but incidents no longer keep the minutes they shared."""
    jitter = settings.dependency_jitter_seconds
    offset = np.random.default_rng(seed).uniform(-jitter, jitter, len(part.created))
    moved = part.created + offset
    order = np.argsort(moved, kind="stable")  # ties keep the history's order
    return _History(
        moved[order], (part.resolved + offset)[order], part.services[order], part.positions[order]
    )


def group_rows(
    incidents: pd.DataFrame, assigned: pd.DataFrame, type_counts: pd.Series
) -> pd.DataFrame:
    """One alert_groups row per neighbourhood group of ``assigned`` (:func:`dependency_bursts`),
    from the member incidents' alert types (``incidents``: incident_id, created_at, epoch,
    key, template_id, template, service_id; ``type_counts``: incidents per alert type). The
    co-firing model's cohesion and lift are NULL: these groups come from the service graph,
    not from a similarity."""
    members = assigned.merge(incidents, on="incident_id", how="inner")
    rows = []
    for group_id, part in members.groupby("group_id", sort=True):
        epochs = part.groupby("occurrence_id")["epoch"]
        spans = epochs.max() - epochs.min()
        rows.append(
            {
                "group_id": group_id,
                "root_service_id": part["root_service_id"].iloc[0],
                "member_keys": sorted(set(part["key"].astype(str))),
                "template_ids": sorted(set(part["template_id"].astype(str))),
                "templates": sorted(set(part["template"].astype(str))),
                "service_ids": sorted(set(part["service_id"].astype(str))),
                "alert_types": int(part["key"].nunique()),
                "occurrences": int(part["occurrence_id"].nunique()),
                "incidents_in_occurrences": int(len(part)),
                "member_incidents": int(type_counts.reindex(part["key"].unique()).sum()),
                "p50_spread_seconds": float(np.percentile(spans, 50)),
                "p90_spread_seconds": float(np.percentile(spans, 90)),
                "cohesion": None,
                "max_pair_lift": None,
                "first_seen": part["created_at"].min(),
                "last_seen": part["created_at"].max(),
            }
        )
    return pd.DataFrame(rows)
