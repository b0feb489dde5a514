"""Flapping: an alert type whose transient incidents re-trigger in quick succession far more
often than the type's own rate explains (docs/grouping.md, section 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from etl.config import Config
from etl.noise.settings import NoiseSettings

# Incidents per hour-of-week slot that pull a slot's busyness toward the account's average, so
# that a short or quiet history is read at its average rate rather than at its few incidents.
BUSYNESS_PRIOR = 10.0
SLOTS = 48  # hour of the day, weekdays and weekends apart


def flag_flapping(incidents: pd.DataFrame, config: Config, settings: NoiseSettings) -> pd.Series:
    """True for incidents of a flapping alert: transient (auto-resolved within
    ``transient_seconds``, never acknowledged), in an episode of at least
    ``flap_min_incidents`` transient incidents of one template on one service each within
    ``flap_window_seconds`` of the previous, of an alert type that re-triggers more often than
    chance (:func:`_flapping_types`)."""
    flagged = pd.Series(False, index=incidents.index)
    transient = incidents["noise_reason"].eq("transient") & incidents["created_at"].notna()
    frame = incidents.loc[transient, ["incident_id", "created_at", "template_id", "service_id"]]
    if frame.empty:
        return flagged
    frame = frame.sort_values(["template_id", "service_id", "created_at", "incident_id"])
    alert_type = frame.groupby(
        ["template_id", "service_id"], observed=True, dropna=False, sort=False
    ).ngroup()
    gap = frame["created_at"].groupby(alert_type).diff().dt.total_seconds()
    retrigger = gap.le(settings.flap_window_seconds)
    episode = (~retrigger).cumsum()
    size = episode.map(episode.value_counts())
    busyness = _busyness(incidents, frame["created_at"])
    flapping = _flapping_types(incidents, alert_type, retrigger, busyness, settings)
    chosen = size.ge(settings.flap_min_incidents) & alert_type.map(flapping)
    flagged.loc[frame.index[chosen.to_numpy()]] = True
    return flagged


def _flapping_types(
    incidents: pd.DataFrame,
    alert_type: pd.Series,
    retrigger: pd.Series,
    busyness: pd.Series,
    settings: NoiseSettings,
) -> pd.Series:
    """Per alert type (``alert_type``'s codes), whether its transient incidents re-trigger
    within the window more often than chance: at the type's own rate over the history, scaled
    by how busy the account is at each incident's hour, the expected number of re-triggers is
    E; the type flaps when a Poisson count of mean E reaches the observed number with
    probability below ``flap_alpha`` divided by the number of types tested (Bonferroni)."""
    window = settings.flap_window_seconds
    created = incidents["created_at"].dropna()
    history = max((created.max() - created.min()).total_seconds(), float(window), 1.0)
    rate = alert_type.map(alert_type.value_counts()) / history  # per second, on average
    by_chance = 1.0 - np.exp(-rate * busyness * window)  # the next one within the window
    has_next = alert_type.duplicated(keep="last")  # the type's last incident has no next
    expected = by_chance.where(has_next, 0.0).groupby(alert_type).sum()
    observed = retrigger.groupby(alert_type).sum()
    chance = poisson.sf(observed - 1, expected)  # P(at least `observed` re-triggers)
    return pd.Series(chance < settings.flap_alpha / len(observed), index=observed.index)


def _busyness(incidents: pd.DataFrame, at: pd.Series) -> pd.Series:
    """How busy the account is at each time of ``at``, relative to its average: its incidents
    that are not transient (so a flapping alert does not make its own hours look busy) per
    hour in that hour of the day, weekdays and weekends apart, shrunk toward the average by
    ``BUSYNESS_PRIOR`` incidents per slot."""
    created = incidents["created_at"].dropna()
    hours = pd.Series(pd.date_range(created.min().floor("h"), created.max().floor("h"), freq="h"))
    reference = incidents.loc[
        incidents["created_at"].notna() & ~incidents["noise_reason"].eq("transient"), "created_at"
    ]
    hours_per_slot = _slot(hours).value_counts().reindex(range(SLOTS), fill_value=0)
    seen = _slot(reference).value_counts().reindex(range(SLOTS), fill_value=0)
    expected = len(reference) * hours_per_slot / len(hours)
    factor = (seen + BUSYNESS_PRIOR) / (expected + BUSYNESS_PRIOR)
    return _slot(at).map(factor)


def _slot(times: pd.Series) -> pd.Series:
    """The hour-of-week slot of each time: the hour of the day, plus 24 on weekends (UTC)."""
    return times.dt.hour + 24 * times.dt.day_of_week.ge(5)
