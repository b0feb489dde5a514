"""Settings of the noise marts: the recommendation thresholds (``[recommendations]``) and the
co-firing model's parameters (``[grouping]``); defaults documented in docs/grouping.md."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from etl.config import ConfigError


@dataclass(frozen=True)
class NoiseSettings:
    """Thresholds of the noise recommendations (defaults documented in docs/grouping.md)."""

    replay_weeks: int = 4  # counterfactual period: the last N weeks of synced history
    min_incidents: int = 5  # an alert type needs this many incidents to get a recommendation
    transient_share: float = 0.5  # pause_transient: share of incidents that are transient
    never_acked_share: float = 0.9  # stop_paging: share of incidents nobody acknowledged
    flap_window_seconds: int = 3600  # transient re-triggers this close form a flapping episode
    flap_min_incidents: int = 2  # ... of at least this many incidents
    flap_alpha: float = 0.001  # ... of a type re-triggering this unlikely by chance (Bonferroni)
    maintenance_min_weeks: int = 3  # a weekly window recurs in this many distinct weeks
    maintenance_alpha: float = 1e-3  # ... holding ignored incidents this unlikely by chance
    maintenance_ignored_share: float = 0.8  # ... and this share of its incidents in it ignored
    min_group_occurrences: int = 2  # group_alerts: the group fired together this often
    examples: int = 3


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
    joint_decoys: int = 4  # decoy histories (days permuted per service) for joint events
    joint_max_decoy_ratio: float = 0.05  # the triple cut-off's false-discovery bound
    joint_similarity: float = 0.6  # service similarity of the pairs of a significant triple
    # A group is kept only if its decoy histories (joint_decoys, days permuted per service)
    # yield at most this share of its real occurrences (needs resolved_at).
    max_occurrence_decoy_ratio: float = 0.4
    # Storms from the service graph (etl/noise/dependency_storms.py; needs the account's
    # service dependencies): incidents on a supporting service and its direct dependents,
    # each created within dependency_link_seconds of the previous and all within
    # dependency_max_seconds of the first, on at least min_dependency_coverage of those
    # services (and min_dependency_services), min_dependency_joint of them resolving together.
    dependency_link_seconds: int = 300
    dependency_max_seconds: int = 900
    min_dependency_services: int = 3
    min_dependency_coverage: float = 0.75
    min_dependency_joint: int = 2
    dependency_decoys: int = 40  # decoy histories giving chance's rate of such bursts ...
    dependency_jitter_seconds: int = 10800  # ... each incident moved up to this either way
    dependency_alpha: float = 0.05  # a neighbourhood's bursts are this unlikely by chance


def load_settings(kind: type, overrides: tuple[tuple[str, object], ...], section: str):
    """Settings from the configuration's ``[section]``; an unknown key is a ConfigError."""
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(key for key, _ in overrides if key not in known)
    if unknown:
        raise ConfigError(f"[{section}]: unknown key(s) {', '.join(unknown)}")
    return kind(**dict(overrides))
