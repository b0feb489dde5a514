"""Co-firing: how much more often two series of incidents fire in the same minutes than
chance would make them, at a cut-off calibrated on decoy histories."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.stats import poisson

from etl.noise.decoys import _decoy_cutoff, _decoy_times
from etl.noise.settings import GroupingSettings


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


def _candidates(
    together: np.ndarray, lift: np.ndarray, chance: np.ndarray, settings: GroupingSettings
) -> np.ndarray:
    """Pairs passing the fixed test (count, lift, chance below ``alpha``), symmetric."""
    return (
        (together >= settings.min_cooccurrences)
        & (lift >= settings.min_lift)
        & (chance < settings.alpha)
    )


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
