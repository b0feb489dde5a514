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
real one, else no cross-service group is formed. Alert types are then clustered with average-linkage agglomerative clustering on
the combined distance (deterministic: no random state involved), and each cluster's
incidents are cut into *occurrences*: bursts of member incidents no more than ``window``
apart that involve at least two member alert types.

Pure: DataFrame in, DataFrames and quality figures out; no database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import sparse
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
    cutoff = -1.0  # nothing passes
    if decoy_chances and len(real_chance):
        # Pairs passing at each possible cut-off (the real candidates' own chances), real
        # vs mean decoy; keep the loosest cut-off whose decoy share is small enough.
        real_passing = np.searchsorted(real_chance, real_chance, side="right")
        decoy_passing = np.mean(
            [np.searchsorted(d, real_chance, side="right") for d in decoy_chances], axis=0
        )
        ok = np.flatnonzero(decoy_passing <= settings.max_decoy_ratio * real_passing)
        if len(ok):
            cutoff = float(real_chance[ok[-1]])
            calibration["decoy_pairs_passing"] = float(decoy_passing[ok[-1]])
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
    template, service_id. Deterministic for a given input (sorted internally).

    Similarity of two alert types a, b (on services s, t):
    ``max(type_cooccurrence(a, b), service_weight * service_cooccurrence(s, t))`` plus
    ``text_weight * tfidf_cosine(a, b)`` when that is positive. The service level catches
    storms whose alert texts differ from one outage to the next (a database outage fires
    whatever alerts each dependent service has); for two alert types of one service it is
    that service's strongest co-firing with any other service, so a service that takes part
    in storms keeps its alert types together.
    """
    settings = settings or GroupingSettings()
    frame = incidents[["incident_id", "created_at", "template_id", "template", "service_id"]].copy()
    frame["service_id"] = _labels(frame["service_id"])
    frame["epoch"] = _epoch_seconds(frame["created_at"])
    frame["key"] = _key(frame)
    frame = _by_time(frame)

    counts = frame["key"].value_counts()
    counts = counts[counts > 0]
    eligible = counts[counts >= settings.min_occurrences]
    eligible = eligible.sort_values(ascending=False, kind="stable").head(settings.max_alert_types)
    keys = sorted(eligible.index)
    quality: dict = {
        "settings": asdict(settings),
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
    calibrated = type_calibration["calibrated"] or service_calibration["calibrated"]
    quality["calibration"] = {
        "alert_type_pairs": type_calibration,
        "service_pairs": service_calibration,
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
    assigned = _occurrences(frame, group_of_key, service_similarity, service_of, settings)

    rows = []
    for group_id, member_idx in sorted(clusters.items()):
        occurrences = assigned[assigned["group_id"] == group_id]
        if occurrences.empty:
            continue
        sub = combined[np.ix_(member_idx, member_idx)]
        n = len(member_idx)
        cohesion = float((sub.sum() - n) / (n * (n - 1)))
        member_keys = [keys[i] for i in member_idx]
        group_incidents = frame[frame["key"].isin(member_keys)]
        seen = occurrences.drop_duplicates("key")
        spans = occurrences.groupby("occurrence_id")["epoch"].agg(lambda s: s.max() - s.min())
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
                "member_incidents": int(len(group_incidents)),
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
    }
    return GroupingResult(groups, assigned, quality)


def _occurrences(
    frame: pd.DataFrame,
    group_of_key: dict[str, str],
    service_similarity: np.ndarray,
    service_of: dict[str, int],
    settings: GroupingSettings,
) -> pd.DataFrame:
    """Cut each group's incidents into occurrences (storms).

    Per group, the incidents of grouped alert types on the group's services and on services
    that co-fire with them (a storm that touches a service clustered elsewhere stays one
    storm) are chained in time (gaps <= window). A burst belongs to the group when most of its
    incidents are the group's own, lasts at most ``max_occurrence_seconds`` (a longer chain is
    background density, not an outage), and spans ``min_occurrence_services`` services and
    ``min_occurrence_incidents`` incidents (an outage that pages several teams, not two alerts
    that met by chance). An incident in bursts of two groups stays in the larger burst.
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
    pieces = []
    for group_id in sorted(set(group_of_key.values())):
        own = candidates["own_group"] == group_id
        services = np.unique(candidates.loc[own, "service_index"].to_numpy())
        related = related_matrix[services].any(axis=0)
        related[services] = True
        part = candidates[own | related[candidates["service_index"].to_numpy()]].copy()
        part = part[_dense_windows(part["epoch"].to_numpy(), settings)].copy()
        gaps = part["epoch"].diff()
        part["burst"] = (gaps.isna() | (gaps > settings.window_seconds)).cumsum()
        part["is_own"] = part["own_group"] == group_id
        shape = part.groupby("burst").agg(
            services=("service_id", "nunique"),
            incidents=("incident_id", "size"),
            own=("is_own", "sum"),
            start=("epoch", "min"),
            end=("epoch", "max"),
        )
        valid = shape[
            (shape["services"] >= settings.min_occurrence_services)
            & (shape["incidents"] >= settings.min_occurrence_incidents)
            & (2 * shape["own"] > shape["incidents"])
            & (shape["end"] - shape["start"] <= settings.max_occurrence_seconds)
        ]
        part = part[part["burst"].isin(valid.index)].copy()
        if part.empty:
            continue
        part["group_id"] = group_id
        part["burst_size"] = part["burst"].map(valid["incidents"])
        first = part.groupby("burst")["epoch"].transform("min")
        part["occurrence_id"] = group_id + "-" + first.astype("int64").astype(str)
        pieces.append(part)
    if not pieces:
        return pd.DataFrame(columns=columns)
    occurrences = pd.concat(pieces, ignore_index=True)
    occurrences = occurrences.sort_values(
        ["incident_id", "burst_size", "group_id"], ascending=[True, False, True]
    ).drop_duplicates("incident_id")
    return occurrences.sort_values(["epoch", "incident_id"]).reset_index(drop=True)


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
