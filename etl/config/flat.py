"""The flat, validated :class:`Config` the models, the noise step and the readers use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from etl.config.schema import _DEFAULTS, Settings

# Config attribute <- (section, key), for the sections the SQL models read.
_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "account_time_zone": ("time", "account_time_zone"),
    "reporting_time_zone": ("time", "reporting_time_zone"),
    "business_start": ("hours", "business_start"),
    "business_end": ("hours", "business_end"),
    "sleep_start": ("hours", "sleep_start"),
    "sleep_end": ("hours", "sleep_end"),
    "interruption_merge_seconds": ("interruptions", "merge_seconds"),
    "interruption_notification_types": ("interruptions", "notification_types"),
    "transient_seconds": ("noise", "transient_seconds"),
    "major_priorities": ("major", "priorities"),
    "major_min_acknowledging_users": ("major", "min_acknowledging_users"),
    "stale_open_major_days": ("major", "stale_open_days"),
    "health_good_monthly": ("health", "good_monthly_off_hours_interruptions"),
    "health_bad_monthly": ("health", "bad_monthly_off_hours_interruptions"),
    "health_burnout_monthly": ("health", "burnout_monthly_off_hours_interruptions"),
    "health_sleep_weight": ("health", "sleep_interruption_weight"),
    "health_consecutive_night_penalty": ("health", "consecutive_night_penalty"),
    "overload_team_multiplier": ("health", "overload_team_multiplier"),
    "overload_min_sleep_interruptions": ("health", "overload_min_sleep_interruptions"),
    "overload_consecutive_nights": ("health", "overload_consecutive_nights"),
}


def _attribute(settings: Settings, attribute: str) -> Any:
    section, key = _ATTRIBUTES[attribute]
    value = getattr(getattr(settings, section), key)
    return tuple(value) if isinstance(value, list) else value


def _schema_default(attribute: str) -> Any:
    return field(default=_attribute(_DEFAULTS, attribute))


# --------------------------------------------------------------------------- Config


@dataclass(frozen=True)
class Config:
    """The validated configuration, flat, as the models, the noise step and reports read it.

    ``Config()`` is the schema's defaults; :func:`load_config` builds one from a file.
    """

    account_time_zone: str = _schema_default("account_time_zone")
    reporting_time_zone: str = _schema_default("reporting_time_zone")
    business_start: time = _schema_default("business_start")
    business_end: time = _schema_default("business_end")
    sleep_start: time = _schema_default("sleep_start")
    sleep_end: time = _schema_default("sleep_end")
    interruption_merge_seconds: int = _schema_default("interruption_merge_seconds")
    interruption_notification_types: tuple[str, ...] = _schema_default(
        "interruption_notification_types"
    )
    transient_seconds: int = _schema_default("transient_seconds")
    major_priorities: tuple[str, ...] = _schema_default("major_priorities")
    major_min_acknowledging_users: int = _schema_default("major_min_acknowledging_users")
    health_good_monthly: float = _schema_default("health_good_monthly")
    health_bad_monthly: float = _schema_default("health_bad_monthly")
    health_burnout_monthly: float = _schema_default("health_burnout_monthly")
    health_sleep_weight: float = _schema_default("health_sleep_weight")
    health_consecutive_night_penalty: float = _schema_default("health_consecutive_night_penalty")
    overload_team_multiplier: float = _schema_default("overload_team_multiplier")
    overload_min_sleep_interruptions: int = _schema_default("overload_min_sleep_interruptions")
    overload_consecutive_nights: int = _schema_default("overload_consecutive_nights")
    stale_open_major_days: float = _schema_default("stale_open_major_days")
    # Overrides of etl.noise.NoiseSettings and etl.clustering.GroupingSettings, as (key, value)
    # pairs from the [recommendations] and [grouping] sections (those that differ from the
    # defaults, already checked against the schema).
    recommendations: tuple[tuple[str, object], ...] = ()
    grouping: tuple[tuple[str, object], ...] = ()
    source: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, source: tuple[str, ...] = ()) -> Config:
        """The flat configuration of a validated :class:`Settings`."""
        return cls(
            **{attribute: _attribute(settings, attribute) for attribute in _ATTRIBUTES},
            recommendations=_changed(settings, "recommendations"),
            grouping=_changed(settings, "grouping"),
            source=source,
        )

    def sql_params(self) -> dict[str, object]:
        """The values SQL models bind as named parameters (``$name``): every attribute of
        the schema under its own name, clock times as ``<name>_seconds`` after midnight and
        tuples as lists."""
        params: dict[str, object] = {}
        for attribute in _ATTRIBUTES:
            value = getattr(self, attribute)
            if isinstance(value, time):
                params[f"{attribute}_seconds"] = _seconds(value)
            else:
                params[attribute] = list(value) if isinstance(value, tuple) else value
        return params


def _changed(settings: Settings, section: str) -> tuple[tuple[str, object], ...]:
    # Only what differs from the defaults, so that equal settings make equal Configs.
    values = getattr(settings, section).model_dump()
    defaults = getattr(_DEFAULTS, section).model_dump()
    return tuple(sorted((k, v) for k, v in values.items() if v != defaults[k]))


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second
