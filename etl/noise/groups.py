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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from etl.noise.cofiring import cooccurrence_similarity
from etl.noise.dependency_storms import components, contradicted, dependency_bursts, group_rows
from etl.noise.joint_events import joint_event_similarity
from etl.noise.occurrences import _occurrences
from etl.noise.settings import GroupingSettings
from etl.noise.templates import template_id


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


def find_groups(
    incidents: pd.DataFrame,
    settings: GroupingSettings | None = None,
    dependencies: pd.DataFrame | None = None,
) -> GroupingResult:
    """Storms read from the service graph first, then the co-firing model on the rest.

    ``dependencies`` (supporting_service_id, dependent_service_id; the account's Service
    Graph, ``stg_service_dependencies``): bursts on a supporting service and its dependents
    are occurrences of that neighbourhood's group (:mod:`etl.noise.dependency_storms`), and
    their incidents are left out of the co-firing model (:func:`cofiring_groups`), which
    finds what the graph does not say. Without dependencies, the co-firing model alone."""
    settings = settings or GroupingSettings()
    frame, joint = _prepare(incidents)
    if dependencies is None or dependencies.empty:
        return cofiring_groups(frame, joint, settings)
    assigned, calibration = dependency_bursts(frame, dependencies, settings)
    counts = frame["key"].value_counts()
    rest = frame[~frame["incident_id"].isin(set(assigned["incident_id"]))]
    cofiring = _within_the_graph(
        cofiring_groups(rest.reset_index(drop=True), joint, settings), dependencies
    )
    graph = group_rows(frame, assigned, counts)
    found = [df for df in (graph, cofiring.groups) if len(df)]
    groups = pd.concat(found, ignore_index=True) if found else _empty_groups()
    quality = cofiring.quality | {
        "alert_types": int((counts > 0).sum()),  # all of them, not only the co-firing model's
        "groups": int(len(groups)),
        "incidents_in_groups": int(len(assigned) + len(cofiring.assignments)),
        "dependency_groups": int(len(graph)),
        "dependency_calibration": calibration,
    }
    return GroupingResult(
        groups,
        pd.concat(
            [assigned[["incident_id", "group_id", "occurrence_id"]], cofiring.assignments],
            ignore_index=True,
        ),
        quality,
    )


def _within_the_graph(result: GroupingResult, dependencies: pd.DataFrame) -> GroupingResult:
    """The co-firing groups less those joining services the account's dependency graph holds
    apart (two of them in different connected components, whatever the services it does not
    mention): what fires together there is coincidence or a cause the graph does not record,
    not one outage to group."""
    if result.groups.empty:
        return result
    component = components(dependencies)
    apart = [contradicted(ids, component) for ids in result.groups["service_ids"]]
    dropped = set(result.groups.loc[apart, "group_id"])
    if not dropped:
        return result
    groups = result.groups[~result.groups["group_id"].isin(dropped)].reset_index(drop=True)
    assignments = result.assignments[~result.assignments["group_id"].isin(dropped)]
    quality = result.quality | {
        "groups": int(len(groups)),
        "incidents_in_groups": int(len(assignments)),
        "dropped_apart_in_the_graph": sorted(dropped),
    }
    return GroupingResult(groups, assignments.reset_index(drop=True), quality)


def cofiring_groups(frame: pd.DataFrame, joint: bool, settings: GroupingSettings) -> GroupingResult:
    """Cluster alert types that fire together, and cut their incidents into occurrences.

    ``frame``: the incidents as :func:`_prepare` gives them (``incidents`` of
    :func:`find_groups` needs incident_id, created_at (tz-aware or epoch seconds),
    template_id, template, service_id; with resolved_at (NaN/NaT: still open) joint events
    are used too, :func:`joint_event_similarity`). Deterministic for a given input.

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
    services = sorted(set(frame["service_id"].unique()))
    service_of = {s: i for i, s in enumerate(services)}
    similarity = _similarities(frame, members, keys, service_of, settings, joint)
    quality["calibration"] = similarity.pop("calibration")
    empty = GroupingResult(_empty_groups(), _empty_assignments(), quality | {"groups": 0})
    combined, clusters = _clusters(members, keys, similarity, settings)
    if not clusters:
        return empty
    group_of_key = {keys[i]: group_id for group_id, idx in clusters.items() for i in idx}
    service_similarity = similarity["service"]
    assigned = _occurrences(frame, group_of_key, service_similarity, service_of, settings, joint)
    rows = [
        _group_row(group_id, member_idx, assigned, keys, counts, combined, similarity["lift"])
        for group_id, member_idx in sorted(clusters.items())
        if (assigned["group_id"] == group_id).any()
    ]
    groups = pd.DataFrame(rows) if rows else _empty_groups()
    assignments = assigned[assigned["group_id"].isin(set(groups["group_id"]))]
    assignments = assignments[["incident_id", "group_id", "occurrence_id"]].reset_index(drop=True)
    quality |= {
        "groups": int(len(groups)),
        "linked_alert_types": int(similarity["linked"]),
        "incidents_in_groups": int(len(assignments)),
        # Per clustered group (with resolution times): the occurrence test used and its
        # occurrences in the real history vs the mean over decoys.
        "occurrence_calibration": assigned.attrs.get("calibration", {}),
    }
    return GroupingResult(groups, assignments, quality)


def _prepare(incidents: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The columns the model reads, with epoch seconds and the alert type ``key``, in time
    order; and whether joint events can be used (resolution times for most incidents)."""
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
    return _by_time(frame), joint


def _similarities(
    frame: pd.DataFrame,
    members: pd.DataFrame,
    keys: list[str],
    service_of: dict[str, int],
    settings: GroupingSettings,
    joint: bool,
) -> dict:
    """Alert-type and service similarities (co-firing, vetoed and extended by joint events),
    the alert-type pairs' lift, each alert type's service index, and the calibration."""
    index_of = {k: i for i, k in enumerate(keys)}
    key_index = np.asarray(members["key"].map(index_of), dtype=np.int64)
    key_service = np.array([service_of[k.split("|", 1)[1]] for k in keys])
    service_index = np.asarray(frame["service_id"].map(service_of), dtype=np.int64)
    # The three similarities are independent and spend most of their time in numpy and
    # scipy, which release the GIL: the service-level two run in threads beside the first.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="noise-similarity") as pool:
        services = pool.submit(
            cooccurrence_similarity,
            frame["epoch"].to_numpy(),
            service_index,
            len(service_of),
            settings,
        )
        # Cross-service co-firing is believed only for service pairs that also resolved
        # together (in min_joint_confirm joint events); recurring joint triples add links.
        joint_events = (
            pool.submit(
                joint_event_similarity,
                frame["epoch"].to_numpy(),
                frame["resolved_epoch"].to_numpy(),
                service_index,
                len(service_of),
                settings,
            )
            if joint
            else None
        )
        # Decoys shift whole services, so alert types of one service keep their timing.
        type_similarity, _, lift, type_calibration = cooccurrence_similarity(
            members["epoch"].to_numpy(), key_index, len(keys), settings, shift_group=key_service
        )
        service_similarity, _, _, service_calibration = services.result()
        joint_calibration = None
        if joint_events is not None:
            joint_similarity, confirmed, joint_calibration = joint_events.result()
    if joint_events is not None:
        service_similarity = np.maximum(
            joint_similarity, np.where(confirmed, service_similarity, 0.0)
        )
        type_similarity[~confirmed[np.ix_(key_service, key_service)]] = 0.0  # in place
    calibrated = (
        type_calibration["calibrated"]
        or service_calibration["calibrated"]
        or bool(joint_calibration and joint_calibration["calibrated"])
    )
    calibration = {
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
    return {
        "type": type_similarity,
        "service": service_similarity,
        "lift": lift,
        "key_service": key_service,
        "calibration": calibration,
    }


def _clusters(
    members: pd.DataFrame, keys: list[str], similarity: dict, settings: GroupingSettings
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The combined alert-type similarity and the clusters of two or more alert types
    (group id -> indexes into ``keys``), by average-linkage agglomerative clustering.
    Sets ``similarity["linked"]``: the alert types with a significant partner."""
    service_similarity = similarity["service"]
    key_service = similarity["key_service"]
    np.fill_diagonal(service_similarity, 0.0)
    strongest = service_similarity.max(axis=1)
    np.fill_diagonal(service_similarity, strongest)
    lifted = settings.service_weight * service_similarity[np.ix_(key_service, key_service)]
    temporal = np.maximum(similarity["type"], lifted)
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
    similarity["linked"] = len(linked)
    if len(linked) < 2:
        return combined, {}
    distance = 1.0 - combined[np.ix_(linked, linked)]
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=1.0 - settings.min_similarity,
    )
    labels = model.fit_predict(distance)
    clusters: dict[str, np.ndarray] = {}
    for label in sorted(set(labels)):
        local = np.flatnonzero(labels == label)
        if len(local) < 2:
            continue
        member_idx = linked[local]
        group_id = "G" + template_id("\n".join(keys[i] for i in member_idx))[:12]
        clusters[group_id] = member_idx
    return combined, clusters


def _group_row(
    group_id: str,
    member_idx: np.ndarray,
    assigned: pd.DataFrame,
    keys: list[str],
    counts: pd.Series,
    combined: np.ndarray,
    lift: np.ndarray,
) -> dict:
    """One group's row: its members seen in occurrences, spread in time, cohesion, lift."""
    occurrences = assigned[assigned["group_id"] == group_id]
    sub = combined[np.ix_(member_idx, member_idx)]
    n = len(member_idx)
    cohesion = float((sub.sum() - n) / (n * (n - 1)))
    member_keys = [keys[i] for i in member_idx]
    seen = occurrences.drop_duplicates("key")
    epochs = occurrences.groupby("occurrence_id")["epoch"]
    spans = epochs.max() - epochs.min()
    pair_lift = lift[np.ix_(member_idx, member_idx)][~np.eye(n, dtype=bool)]
    return {
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
