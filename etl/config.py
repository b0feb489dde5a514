"""Configuration: the thresholds of docs/metrics.md, read from TOML with documented defaults.

Order of precedence: an explicit path, then ``PAGERLENS_CONFIG``, then ``./pagerlens.toml`` if it
exists, layered over ``etl/defaults.toml``. Secrets never live here: the API token comes from
``PAGERDUTY_API_TOKEN`` or a token file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
DEFAULT_DB = "pagerlens.duckdb"


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Config:
    account_time_zone: str = "UTC"
    reporting_time_zone: str = "UTC"
    business_start: time = time(8)
    business_end: time = time(18)
    sleep_start: time = time(22)
    sleep_end: time = time(8)
    interruption_merge_seconds: int = 60
    interruption_notification_types: tuple[str, ...] = (
        "sms_notification",
        "phone_notification",
        "push_notification",
    )
    transient_seconds: int = 300
    major_priorities: tuple[str, ...] = ()
    major_min_acknowledging_users: int = 2
    health_good_monthly: float = 2
    health_bad_monthly: float = 7
    health_burnout_monthly: float = 19
    health_sleep_weight: float = 2
    health_consecutive_night_penalty: float = 10
    overload_team_multiplier: float = 2
    overload_min_sleep_interruptions: int = 7
    overload_consecutive_nights: int = 3
    stale_open_major_days: float = 7
    # Overrides of etl.noise.NoiseSettings and etl.clustering.GroupingSettings, as (key, value)
    # pairs from the [recommendations] and [grouping] sections (validated where they are used).
    recommendations: tuple[tuple[str, object], ...] = ()
    grouping: tuple[tuple[str, object], ...] = ()
    source: tuple[str, ...] = field(default=(), compare=False)

    def sql_params(self) -> dict[str, object]:
        """The values SQL models bind as named parameters (``$name``)."""
        return {
            "account_time_zone": self.account_time_zone,
            "reporting_time_zone": self.reporting_time_zone,
            "business_start_seconds": _seconds(self.business_start),
            "business_end_seconds": _seconds(self.business_end),
            "sleep_start_seconds": _seconds(self.sleep_start),
            "sleep_end_seconds": _seconds(self.sleep_end),
            "interruption_merge_seconds": self.interruption_merge_seconds,
            "interruption_notification_types": list(self.interruption_notification_types),
            "transient_seconds": self.transient_seconds,
            "major_priorities": list(self.major_priorities),
            "major_min_acknowledging_users": self.major_min_acknowledging_users,
            "stale_open_major_days": self.stale_open_major_days,
            "health_good_monthly": self.health_good_monthly,
            "health_bad_monthly": self.health_bad_monthly,
            "health_burnout_monthly": self.health_burnout_monthly,
            "health_sleep_weight": self.health_sleep_weight,
            "health_consecutive_night_penalty": self.health_consecutive_night_penalty,
            "overload_team_multiplier": self.overload_team_multiplier,
            "overload_min_sleep_interruptions": self.overload_min_sleep_interruptions,
            "overload_consecutive_nights": self.overload_consecutive_nights,
        }


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _parse_time(key: str, value: object) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{key}: expected HH:MM, got {value!r}") from exc


def _zone(key: str, value: object) -> str:
    try:
        ZoneInfo(str(value))
    except Exception as exc:
        raise ConfigError(f"{key}: unknown time zone {value!r}") from exc
    return str(value)


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the configuration; raise ConfigError with the offending key on bad values."""
    with DEFAULTS_PATH.open("rb") as fh:
        raw = tomllib.load(fh)
    sources = [str(DEFAULTS_PATH)]
    candidate = path or os.environ.get("PAGERLENS_CONFIG")
    if candidate is None and Path("pagerlens.toml").exists():
        candidate = "pagerlens.toml"
    if candidate is not None:
        try:
            with open(candidate, "rb") as fh:
                raw = _merge(raw, tomllib.load(fh))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file not found: {candidate}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{candidate}: {exc}") from exc
        sources.append(str(candidate))
    try:
        return Config(
            account_time_zone=_zone("time.account_time_zone", raw["time"]["account_time_zone"]),
            reporting_time_zone=_zone(
                "time.reporting_time_zone", raw["time"]["reporting_time_zone"]
            ),
            business_start=_parse_time("hours.business_start", raw["hours"]["business_start"]),
            business_end=_parse_time("hours.business_end", raw["hours"]["business_end"]),
            sleep_start=_parse_time("hours.sleep_start", raw["hours"]["sleep_start"]),
            sleep_end=_parse_time("hours.sleep_end", raw["hours"]["sleep_end"]),
            interruption_merge_seconds=int(raw["interruptions"]["merge_seconds"]),
            interruption_notification_types=tuple(raw["interruptions"]["notification_types"]),
            transient_seconds=int(raw["noise"]["transient_seconds"]),
            major_priorities=tuple(raw["major"]["priorities"]),
            major_min_acknowledging_users=int(raw["major"]["min_acknowledging_users"]),
            health_good_monthly=float(raw["health"]["good_monthly_off_hours_interruptions"]),
            health_bad_monthly=float(raw["health"]["bad_monthly_off_hours_interruptions"]),
            health_burnout_monthly=float(raw["health"]["burnout_monthly_off_hours_interruptions"]),
            health_sleep_weight=float(raw["health"]["sleep_interruption_weight"]),
            health_consecutive_night_penalty=float(raw["health"]["consecutive_night_penalty"]),
            overload_team_multiplier=float(raw["health"]["overload_team_multiplier"]),
            overload_min_sleep_interruptions=int(raw["health"]["overload_min_sleep_interruptions"]),
            overload_consecutive_nights=int(raw["health"]["overload_consecutive_nights"]),
            stale_open_major_days=float(raw["major"]["stale_open_days"]),
            recommendations=tuple(sorted(raw.get("recommendations", {}).items())),
            grouping=tuple(sorted(raw.get("grouping", {}).items())),
            source=tuple(sources),
        )
    except KeyError as exc:
        raise ConfigError(f"missing configuration key: {exc.args[0]}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"invalid configuration value: {exc}") from exc


def default_db_path() -> Path:
    """``PAGERLENS_DB``, else ``./pagerlens.duckdb``."""
    return Path(os.environ.get("PAGERLENS_DB", DEFAULT_DB))
