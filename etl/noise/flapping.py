"""Flapping: transient incidents of one alert type re-triggering in quick succession."""

from __future__ import annotations

import pandas as pd

from etl.config import Config
from etl.noise.settings import NoiseSettings


def flag_flapping(incidents: pd.DataFrame, config: Config, settings: NoiseSettings) -> pd.Series:
    """True for incidents of a flapping alert: transient (auto-resolved within
    ``transient_seconds``, never acknowledged) and re-triggering on the same service and
    template within ``flap_window_seconds``, in episodes of at least ``flap_min_incidents``."""
    transient = incidents["noise_reason"].eq("transient")
    frame = incidents.loc[transient, ["incident_id", "created_at", "template_id", "service_id"]]
    flagged = pd.Series(False, index=incidents.index)
    if frame.empty:
        return flagged
    frame = frame.sort_values(["template_id", "service_id", "created_at", "incident_id"])
    key = frame["template_id"].astype(str) + "|" + frame["service_id"].astype(str)
    gap = frame.groupby(key)["created_at"].diff().dt.total_seconds()
    episode = (gap.isna() | (gap > settings.flap_window_seconds)).cumsum()
    size = episode.map(episode.value_counts())
    flagged.loc[frame.index[(size >= settings.flap_min_incidents).to_numpy()]] = True
    return flagged
