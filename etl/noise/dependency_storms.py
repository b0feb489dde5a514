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
hour, not one outage). A chain on enough distinct services is a burst; bursts that chance
alone would produce as often are not believed: the same neighbourhood in a decoy history
(its i-th service's incidents shifted by i whole days, as the co-firing model shifts days)
must yield at most ``max_occurrence_decoy_ratio`` as many bursts, else the neighbourhood forms
no group. An incident belongs to at most one burst: the neighbourhoods are read largest first.

Each neighbourhood with a believed burst is a group (``group_id`` from the supporting
service), its bursts are the group's occurrences. Pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.noise.settings import GroupingSettings
from etl.noise.templates import template_id

DAY_SECONDS = 86_400

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


def dependency_bursts(
    incidents: pd.DataFrame, edges: pd.DataFrame, settings: GroupingSettings | None = None
) -> tuple[pd.DataFrame, dict]:
    """The incidents in a believed burst of a dependency neighbourhood.

    ``incidents`` needs incident_id, service_id and epoch (creation time in seconds),
    ``edges`` the columns of :data:`EDGE_COLUMNS`. Returns (assignments, calibration):
    incident_id, group_id, occurrence_id, root_service_id for every incident in a burst, and
    per neighbourhood its bursts in the real history against the decoy's."""
    settings = settings or GroupingSettings()
    empty = pd.DataFrame(columns=["incident_id", "group_id", "occurrence_id", "root_service_id"])
    areas = neighbourhoods(edges)
    if not areas or incidents.empty:
        return empty, {}
    frame = incidents[["incident_id", "service_id", "epoch"]].dropna(subset=["epoch"])
    frame = frame.assign(service_id=frame["service_id"].astype(str))
    frame = frame.sort_values(["epoch", "incident_id"], kind="stable").reset_index(drop=True)
    start = float(frame["epoch"].min())
    days = int((float(frame["epoch"].max()) - start) // DAY_SECONDS) + 1
    taken = np.zeros(len(frame), dtype=bool)
    rows: list[pd.DataFrame] = []
    calibration: dict[str, dict] = {}
    # Largest neighbourhoods first: a service shared by two supporting services goes to the
    # outage that takes more services down with it.
    for root, services in sorted(areas.items(), key=lambda item: (-len(item[1]), item[0])):
        if len(services) < settings.min_dependency_services:
            continue
        inside = frame["service_id"].isin(services).to_numpy()
        real = _bursts(frame.loc[inside & ~taken], settings)
        decoy = _bursts(_decoy(frame.loc[inside], services, start, days), settings)
        believed = len(real) > 0 and len(decoy) <= settings.max_occurrence_decoy_ratio * len(real)
        calibration[root] = {"bursts": len(real), "decoy_bursts": len(decoy), "kept": believed}
        if not believed:
            continue
        group_id = "G" + template_id(f"dependency|{root}")[:12]
        for first, index in real:
            taken[index] = True
            rows.append(
                pd.DataFrame(
                    {
                        "incident_id": frame["incident_id"].to_numpy()[index],
                        "group_id": group_id,
                        "occurrence_id": f"{group_id}-{int(first)}",
                        "root_service_id": root,
                    }
                )
            )
    assigned = pd.concat(rows, ignore_index=True) if rows else empty
    return assigned, calibration


def _bursts(part: pd.DataFrame, settings: GroupingSettings) -> list[tuple[float, np.ndarray]]:
    """(first creation epoch, row positions in the whole frame) of each chain of ``part`` on
    at least ``min_dependency_services`` services; ``part`` in creation order."""
    epochs = part["epoch"].to_numpy(np.float64)
    services = part["service_id"].to_numpy()
    positions = part.index.to_numpy()
    found = []
    start = 0
    while start < len(epochs):
        end = start + 1
        while (
            end < len(epochs)
            and epochs[end] - epochs[end - 1] <= settings.dependency_link_seconds
            and epochs[end] - epochs[start] <= settings.dependency_max_seconds
        ):
            end += 1
        if len(set(services[start:end])) >= settings.min_dependency_services:
            found.append((epochs[start], positions[start:end]))
        start = end
    return found


def _decoy(part: pd.DataFrame, services: list[str], start: float, days: int) -> pd.DataFrame:
    """The neighbourhood's history with its i-th service's incidents shifted by i whole days,
    wrapped around the history's ``days``: each service keeps its daily rhythm and its
    counts, no two keep their shared outages. Empty when the history is too short to shift
    (then nothing is compared and the bursts are believed)."""
    if days < 2:
        return part.iloc[:0]
    shift = {s: (i % days) * DAY_SECONDS for i, s in enumerate(services)}
    span = days * DAY_SECONDS
    moved = (part["epoch"] - start + part["service_id"].map(shift).astype(float)) % span + start
    decoy = part.assign(epoch=moved)
    return decoy.sort_values(["epoch", "incident_id"], kind="stable").reset_index(drop=True)


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
