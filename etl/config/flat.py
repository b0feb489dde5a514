"""The flat, validated :class:`Config` the models, the noise step and the readers use."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import time
from typing import Any

from etl.config.schema import _DEFAULTS, Settings


def _setting(section: str, key: str) -> Any:
    """A :class:`Config` attribute that is the schema's ``[section] key``, with its default
    (a list becomes a tuple: Config is frozen)."""
    return field(default=_value(_DEFAULTS, section, key), metadata={"setting": (section, key)})


def _value(settings: Settings, section: str, key: str) -> Any:
    value = getattr(getattr(settings, section), key)
    return tuple(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------- Config


@dataclass(frozen=True)
class Config:
    """The validated configuration, flat, as the models, the noise step and reports read it.

    ``Config()`` is the schema's defaults; :func:`load_config` builds one from a file.
    """

    account_time_zone: str = _setting("time", "account_time_zone")
    reporting_time_zone: str = _setting("time", "reporting_time_zone")
    business_start: time = _setting("hours", "business_start")
    business_end: time = _setting("hours", "business_end")
    sleep_start: time = _setting("hours", "sleep_start")
    sleep_end: time = _setting("hours", "sleep_end")
    interruption_merge_seconds: int = _setting("interruptions", "merge_seconds")
    interruption_notification_types: tuple[str, ...] = _setting(
        "interruptions", "notification_types"
    )
    transient_seconds: int = _setting("noise", "transient_seconds")
    major_priorities: tuple[str, ...] = _setting("major", "priorities")
    major_min_acknowledging_users: int = _setting("major", "min_acknowledging_users")
    health_good_monthly: float = _setting("health", "good_monthly_off_hours_interruptions")
    health_bad_monthly: float = _setting("health", "bad_monthly_off_hours_interruptions")
    health_burnout_monthly: float = _setting("health", "burnout_monthly_off_hours_interruptions")
    health_sleep_weight: float = _setting("health", "sleep_interruption_weight")
    health_consecutive_night_penalty: float = _setting("health", "consecutive_night_penalty")
    overload_team_multiplier: float = _setting("health", "overload_team_multiplier")
    overload_min_sleep_interruptions: int = _setting("health", "overload_min_sleep_interruptions")
    overload_consecutive_nights: int = _setting("health", "overload_consecutive_nights")
    stale_open_major_days: float = _setting("major", "stale_open_days")
    auto_resolve_tolerance_seconds: int = _setting(
        "service_settings", "auto_resolve_tolerance_seconds"
    )
    auto_resolve_constant_share: float = _setting("service_settings", "auto_resolve_constant_share")
    retrigger_share: float = _setting("service_settings", "retrigger_share")
    # Overrides of etl.noise's NoiseSettings and GroupingSettings, as (key, value) pairs from
    # the [recommendations] and [grouping] sections (those that differ from the defaults,
    # already checked against the schema).
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


# Config attribute -> (section, key) of the schema, for the attributes the SQL models read.
_ATTRIBUTES: dict[str, tuple[str, str]] = {
    f.name: f.metadata["setting"] for f in fields(Config) if "setting" in f.metadata
}


def _attribute(settings: Settings, attribute: str) -> Any:
    return _value(settings, *_ATTRIBUTES[attribute])


def _changed(settings: Settings, section: str) -> tuple[tuple[str, object], ...]:
    # Only what differs from the defaults, so that equal settings make equal Configs.
    values = getattr(settings, section).model_dump()
    defaults = getattr(_DEFAULTS, section).model_dump()
    return tuple(sorted((k, v) for k, v in values.items() if v != defaults[k]))


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second
