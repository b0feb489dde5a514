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
(a Poisson chance below ``dependency_alpha``). An incident belongs to at most one burst:
the neighbourhoods are read largest first.

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
    """Whether the graph says these services are unrelated: all of them are in it, in more
    than one connected component (a service the graph does not mention proves nothing)."""
    known = [component.get(str(s)) for s in service_ids]
    return None not in known and len(set(known)) > 1


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
        real = _bursts(history.take(np.flatnonzero(inside & ~taken)), least, settings, joint)
        decoys = _decoy_bursts(
            history.take(np.flatnonzero(inside)), len(real), least, settings, joint
        )
        chance = _chance(len(real), decoys, settings.dependency_decoys)
        believed = len(real) > 0 and chance < settings.dependency_alpha
        calibration[root] = {
            "bursts": len(real),
            "decoy_bursts": sum(decoys),
            "decoys": len(decoys),
            "chance": round(chance, 6),
            "kept": believed,
        }
        if not believed:
            continue
        group_id = "G" + template_id(f"dependency|{root}")[:12]
        for first, index in real:
            taken[index] = True
            rows.extend((i, group_id, f"{group_id}-{int(first)}", root) for i in ids[index])
    return pd.DataFrame(rows, columns=empty.columns) if rows else empty, calibration


def _decoy_bursts(
    part: _History, bursts: int, least: int, settings: GroupingSettings, joint: bool
) -> list[int]:
    """The bursts of each decoy of the neighbourhood, in seed order; stops early once the
    decoys so far make ``bursts`` too likely whatever the rest would show (more decoy bursts
    only make it likelier), and at once when there are no real bursts to believe."""
    counts: list[int] = []
    if not bursts:
        return counts
    for seed in range(settings.decoy_seed, settings.decoy_seed + settings.dependency_decoys):
        counts.append(len(_bursts(_decoy(part, settings, seed), least, settings, joint)))
        if _chance(bursts, counts, settings.dependency_decoys) >= settings.dependency_alpha:
            break
    return counts


def _chance(bursts: int, decoys: list[int], planned: int) -> float:
    """The Poisson chance of at least ``bursts`` bursts when chance alone makes the decoys'
    rate: their bursts over the ``planned`` decoys (a lower bound while some are still to
    run), at least half a burst in all (a decoy count of zero is not a rate of zero); 0.0
    when no decoy is planned (nothing to compare with: believed)."""
    if not planned:
        return 0.0
    rate = max(sum(decoys), 0.5) / planned
    return float(stats.poisson.sf(bursts - 1, rate))


def _bursts(
    history: _History, least: int, settings: GroupingSettings, joint: bool
) -> list[tuple[float, np.ndarray]]:
    """(first creation epoch, row positions) of each chain of ``history`` (in creation
    order) on at least ``least`` services, and, when ``joint``, resolving together
    (:func:`_resolve_together`)."""
    created, services = history.created, history.services
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
    found = []
    for first, last in zip(starts[distinct >= least], ends[distinct >= least], strict=True):
        start = int(first)
        while start < last:
            limit = created[start] + settings.dependency_max_seconds
            end = start + int(np.searchsorted(created[start:last], limit, side="right"))
            cut = slice(start, end)
            if len(set(services[cut].tolist())) >= least and (
                not joint
                or _resolve_together(created[cut], history.resolved[cut], services[cut], settings)
            ):
                found.append((created[start], history.positions[cut]))
            start = end
    return found


def _resolve_together(
    created: np.ndarray, resolved: np.ndarray, services: np.ndarray, settings: GroupingSettings
) -> bool:
    """Whether incidents on ``min_dependency_joint`` services of a chain, each open at least
    ``joint_min_duration`` (shorter ones resolve together whenever they fire together),
    resolved within ``joint_link_seconds`` of one another (chained): dependents recovering
    when their supporting service does."""
    long = np.flatnonzero(~np.isnan(resolved) & (resolved - created >= settings.joint_min_duration))
    if len(set(services[long].tolist())) < settings.min_dependency_joint:
        return False
    order = long[np.argsort(resolved[long], kind="stable")]
    times = resolved[order]
    start = 0
    for end in range(1, len(order) + 1):
        if end == len(order) or times[end] - times[end - 1] > settings.joint_link_seconds:
            if len(set(services[order[start:end]].tolist())) >= settings.min_dependency_joint:
                return True
            start = end
    return False


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
