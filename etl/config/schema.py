"""The configuration schema: one pydantic model per TOML section, with every key's type,
range, default and description (see :mod:`etl.config`)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from etl.config.text import _clock_text, _did_you_mean, _number_text, _shown

DEFAULTS_PATH = Path(__file__).resolve().parents[1] / "defaults.toml"
DEFAULT_DB = "pagerlens.duckdb"
DAY = 86_400
WEEK = 7 * DAY


class ConfigError(ValueError):
    """The configuration cannot be used: one line per problem, each naming file, section, key."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------- value types


def _integral(value: object) -> object:
    # TOML has no "integer-valued float" type; 60.0 meant 60 before the schema and still does.
    # 60.5 is refused by the strict integer check instead of being truncated.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _clock(value: object) -> object:
    if isinstance(value, time):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            raise ValueError(f'expected a local time "HH:MM", got {_shown(value)}') from None
    else:
        raise ValueError(f'expected a local time "HH:MM", got {_shown(value)}')
    if parsed.microsecond:
        raise ValueError(f'expected a local time "HH:MM" or "HH:MM:SS", got {_shown(value)}')
    if parsed.tzinfo is not None:
        raise ValueError(
            f"expected a local time without a UTC offset, got {_shown(value)} "
            "(hours are local to each responder's own time zone)"
        )
    return parsed


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # ZoneInfo raises several types (ValueError, ZoneInfoNotFoundError, ...)
        from zoneinfo import available_timezones

        raise ValueError(
            f"unknown time zone {_shown(value)}{_did_you_mean(value, available_timezones())}"
        ) from None
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Count = Annotated[int, BeforeValidator(_integral)]
Number = Annotated[float, Field(allow_inf_nan=False)]
Clock = Annotated[time, BeforeValidator(_clock)]
Zone = Annotated[str, AfterValidator(_zone)]
Name = Annotated[str, AfterValidator(_non_empty)]
# PagerDuty's notification types (REST API v2, Notification.type): a typo here would silently
# count no interruptions at all, so the list is closed.
NotificationType = Literal[
    "sms_notification", "phone_notification", "push_notification", "email_notification"
]
NOTIFICATION_TYPES: tuple[str, ...] = get_args(NotificationType)


def _key(default: object, description: str, **bounds: Any) -> Any:
    return Field(default, description=description, **bounds)


def _share(default: float, description: str) -> Any:
    """A share or a weight of a whole: 0 to 1."""
    return _key(default, description, ge=0, le=1)


def _probability(default: float, description: str) -> Any:
    """A significance level: above 0, at most 1."""
    return _key(default, description, gt=0, le=1)


def _day_seconds(default: int, description: str) -> Any:
    """A number of seconds, up to a day."""
    return _key(default, description, ge=0, le=DAY)


def _occurrences(default: int, description: str, least: int = 1) -> Any:
    """How often something must have happened: ``least`` to a million."""
    return _key(default, description, ge=least, le=1_000_000)


def _small(default: float, description: str) -> Any:
    """A small number (a weight, points, examples or decoys to draw): 0 to 100."""
    return _key(default, description, ge=0, le=100)


def _interruptions(default: float, description: str) -> Any:
    """A number of interruptions (in a month, in 4 weeks): 0 to 10,000."""
    return _key(default, description, ge=0, le=10_000)


def _ordered(keys: tuple[str, ...], problem: str) -> PydanticCustomError:
    return PydanticCustomError(
        "config_order", "{keys}: {problem}", {"keys": ", ".join(keys), "problem": problem}
    )


class Section(BaseModel):
    """A TOML section: strict types (TOML's own), no unknown keys, frozen."""

    # validate_default: an int default of a float key becomes a float, as a file's value would.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, validate_default=True)


# --------------------------------------------------------------------------- the schema


class TimeSection(Section):
    """Time zones (IANA names, for example "Europe/Berlin")."""

    account_time_zone: Zone = _key(
        "UTC",
        "The REST API does not expose the account's time zone: users without a time zone use "
        "this one.",
    )
    reporting_time_zone: Zone = _key("UTC", "Weeks start on Monday 00:00 in this zone.")


class HoursSection(Section):
    """Local times "HH:MM", in each responder's own time zone; each window is half-open
    [start, end). Business hours (Monday to Friday) lie within one day: start before end.
    Sleep hours (every day) may cross midnight: a start after the end, as in 22:00 to 08:00,
    is the overnight window; start and end must differ. Sleep wins where the two overlap."""

    business_start: Clock = _key(time(8), "Business hours begin (Monday to Friday).")
    business_end: Clock = _key(time(18), "Business hours end; must be after business_start.")
    sleep_start: Clock = _key(time(22), "Sleep hours begin (every day).")
    sleep_end: Clock = _key(
        time(8), "Sleep hours end; before sleep_start means the window crosses midnight."
    )

    @model_validator(mode="after")
    def _windows(self) -> HoursSection:
        if self.business_start >= self.business_end:
            raise _ordered(
                ("business_start", "business_end"),
                f"business hours {_clock_text(self.business_start)}-"
                f"{_clock_text(self.business_end)} do not end after they start; business hours "
                "cannot cross midnight (only sleep hours can): set business_start before "
                "business_end",
            )
        if self.sleep_start == self.sleep_end:
            raise _ordered(
                ("sleep_start", "sleep_end"),
                f"both are {_clock_text(self.sleep_start)}, so there would be no sleep hours: "
                "give the window a length (22:00 to 08:00 crosses midnight)",
            )
        return self


class InterruptionsSection(Section):
    """What counts as an interruption (docs/metrics.md "Interruptions")."""

    merge_seconds: Count = _day_seconds(
        60,
        "A notification to the same person at most this many seconds after the previous one "
        "joins its interruption.",
    )
    notification_types: list[NotificationType] = _key(
        ["sms_notification", "phone_notification", "push_notification"],
        f"Notification types that interrupt (of {', '.join(NOTIFICATION_TYPES)}).",
        min_length=1,
    )


class NoiseSection(Section):
    """Noise incidents (docs/metrics.md "is_noise")."""

    transient_seconds: Count = _day_seconds(
        300, "An incident auto-resolved this fast and never acknowledged is transient."
    )


class ServiceSettingsSection(Section):
    """Service settings that distort the metrics (docs/metrics.md "Service settings")."""

    auto_resolve_tolerance_seconds: Count = _day_seconds(
        60,
        "An incident resolved within this many seconds after created + the service's "
        "auto-resolve timeout was closed by the timeout.",
    )
    auto_resolve_constant_share: Number = _share(
        0.2, "Flag the auto-resolve timeout when this share of resolutions is the timeout."
    )
    retrigger_share: Number = _share(
        0.1,
        "Flag the acknowledgement timeout when it re-triggers this share of acknowledged "
        "incidents.",
    )


class MajorSection(Section):
    """Major incidents (docs/metrics.md "is_major")."""

    priorities: list[Name] = _key(
        [],
        "Priority names that are major. Empty: the two highest priorities of the account (by "
        "/priorities order), or 2+ acknowledging users.",
    )
    min_acknowledging_users: Count = _key(
        2, "This many acknowledging people make an incident major.", ge=1, le=1000
    )
    stale_open_days: Number = _key(
        7,
        "A major incident still open this many days after it began is flagged stale (report "
        "warning).",
        ge=0,
        le=3650,
    )


class HealthSection(Section):
    """Responder health and overload (docs/metrics.md "health_score", "is_overloaded")."""

    good_monthly_off_hours_interruptions: Number = _interruptions(
        2,
        "Interruption load per user and month outside working hours (realism.md): at most "
        "this is good (score 100) ...",
    )
    bad_monthly_off_hours_interruptions: Number = _interruptions(
        7, "... this is bad (score 60); must be above the good band ..."
    )
    burnout_monthly_off_hours_interruptions: Number = _interruptions(
        19, "... and this is burnout (score 20); must be above the bad band."
    )
    sleep_interruption_weight: Number = _small(
        2, "Sleep-hour interruptions count this many times in the weighted monthly load."
    )
    consecutive_night_penalty: Number = _small(
        10, "Points off the health score per consecutive disrupted night beyond the first in a run."
    )
    overload_team_multiplier: Number = _key(
        2,
        "Overloaded: sleep interruptions per on-call week (trailing 4 weeks) above this "
        "multiple of the team's median ...",
        ge=0,
        le=1000,
    )
    overload_min_sleep_interruptions: Count = _interruptions(
        7,
        '... and at least this many of them in those 4 weeks (the "bad" band: a relatively '
        "loud week that is still quiet in absolute terms is not overload) ...",
    )
    overload_consecutive_nights: Count = _key(
        3, "... or a run of at least this many consecutive disrupted nights.", ge=1, le=366
    )

    @model_validator(mode="after")
    def _bands(self) -> HealthSection:
        good = self.good_monthly_off_hours_interruptions
        bad = self.bad_monthly_off_hours_interruptions
        burnout = self.burnout_monthly_off_hours_interruptions
        if not good < bad < burnout:
            raise _ordered(
                (
                    "good_monthly_off_hours_interruptions",
                    "bad_monthly_off_hours_interruptions",
                    "burnout_monthly_off_hours_interruptions",
                ),
                f"the health bands must rise strictly (good < bad < burnout), got "
                f"{_number_text(good)}, {_number_text(bad)}, {_number_text(burnout)}",
            )
        return self


class RecommendationsSection(Section):
    """Noise recommendations (etl/noise/settings.py NoiseSettings; docs/grouping.md)."""

    replay_weeks: Count = _key(
        4, "Counterfactual period: the last N weeks of synced history.", ge=1, le=520
    )
    min_incidents: Count = _occurrences(
        5, "An alert type needs this many incidents to be recommended on."
    )
    transient_share: Number = _share(
        0.5, "pause_transient: share of its incidents that are transient."
    )
    never_acked_share: Number = _share(
        0.9, "stop_paging: share of its incidents nobody acknowledged."
    )
    flap_window_seconds: Count = _key(
        3600, "Transient re-triggers this close form a flapping episode ...", ge=0, le=WEEK
    )
    flap_min_incidents: Count = _key(2, "... of at least this many incidents.", ge=2, le=10_000)
    flap_alpha: Number = _probability(
        0.001, "... of a type whose re-triggers are this unlikely by chance (all types together)."
    )
    maintenance_min_weeks: Count = _key(
        3,
        "A weekly window must recur in this many distinct weeks ...",
        ge=1,
        le=520,
    )
    maintenance_alpha: Number = _probability(
        1e-3, "... holding ignored incidents this unlikely by chance (all its windows together)."
    )
    maintenance_ignored_share: Number = _share(
        0.8, "... and nobody acknowledged at least this share of its incidents in the window."
    )
    min_group_occurrences: Count = _occurrences(
        2, "group_alerts: the group fired together at least this often."
    )
    examples: Count = _small(3, "Example incidents shown with each recommendation.")


class GroupingSection(Section):
    """Alerts that fire together (etl/noise/settings.py GroupingSettings; docs/grouping.md)."""

    window_seconds: Count = _key(
        600, 'Two incidents "fire together" when at most this far apart.', ge=1, le=DAY
    )
    min_occurrences: Count = _occurrences(3, "Alert types rarer than this are not clustered.")
    min_cooccurrences: Count = _occurrences(3, "A pair must fire together at least this often ...")
    min_lift: Number = _key(2.0, "... this many times more often than chance ...", ge=0, le=1e6)
    alpha: Number = _probability(0.1, "... and a Poisson chance of that many below alpha.")
    saturation: Number = _key(
        3.0, "Co-firings beyond chance that make a pair fully similar.", gt=0, le=1e6
    )
    min_similarity: Number = _share(0.5, "Average-linkage cut: 1 - distance_threshold.")
    text_weight: Number = _share(0.25, "How much template similarity strengthens co-occurrence.")
    service_weight: Number = _share(0.9, "Weight of service-level co-firing for alert-type pairs.")
    min_occurrence_incidents: Count = _occurrences(
        3, "A storm occurrence has at least this many incidents ...", least=2
    )
    min_occurrence_services: Count = _occurrences(3, "... on at least this many services.")
    max_occurrence_seconds: Count = _key(
        3600, "A longer chain is background density, not a storm.", ge=1, le=WEEK
    )
    scan_alpha: Number = _probability(
        1e-3, "A storm window is this unlikely under the group's base rate."
    )
    max_alert_types: Count = _occurrences(
        5000, "The most frequent alert types considered (memory bound)."
    )
    max_decoy_ratio: Number = _share(
        0.1, "Pairs kept only where a time-shift decoy passes at most this share of them."
    )
    decoys: Count = _small(
        1, "Decoy histories (days shifted per service) the cut-off is calibrated on."
    )
    decoy_seed: Count = _key(7, "Seed of the decoy day shifts (deterministic).", ge=0, le=2**31 - 1)
    joint_link_seconds: Count = _day_seconds(
        300,
        "Joint events: incidents on several services created and resolved within this many "
        "seconds of a neighbour (chained) ...",
    )
    joint_min_duration: Count = _key(
        600,
        "... each open at least this long (shorter ones resolve together anyway) ...",
        ge=0,
        le=WEEK,
    )
    min_joint_services: Count = _key(3, "... on at least this many services ...", ge=2, le=1000)
    max_joint_services: Count = _key(
        12, "... and at most this many (a longer chain is background density).", ge=2, le=1000
    )
    min_joint_recurrence: Count = _occurrences(
        2, "A service triple lies in at least this many joint events."
    )
    min_joint_confirm: Count = _occurrences(
        1, "Cross-service co-firing needs at least this many shared joint events.", least=0
    )
    joint_decoys: Count = _small(4, "Decoy histories (days permuted per service) for joint events.")
    joint_max_decoy_ratio: Number = _share(0.05, "The triple cut-off's false-discovery bound.")
    joint_similarity: Number = _share(
        0.6, "Service similarity of the pairs of a significant triple."
    )
    max_occurrence_decoy_ratio: Number = _share(
        0.4,
        "A group is kept only if its decoy histories yield at most this share of its real "
        "occurrences.",
    )
    dependency_link_seconds: Count = _day_seconds(
        300,
        "Storms from the service graph: incidents on a supporting service and its dependents, "
        "each created within this many seconds of the previous ...",
    )
    dependency_max_seconds: Count = _day_seconds(
        900, "... all within this many seconds of the first ..."
    )
    min_dependency_services: Count = _key(
        3, "... on at least this many of those services ...", ge=2, le=1000
    )
    min_dependency_coverage: Number = _share(
        0.75, "... and at least this share of them (an outage takes its dependents down) ..."
    )
    min_dependency_joint: Count = _key(
        2,
        "... of which at least this many resolve together (each open joint_min_duration, "
        "resolved within joint_link_seconds of one another).",
        ge=1,
        le=1000,
    )
    dependency_decoys: Count = _key(
        40,
        "Decoy histories that give chance's rate of such bursts (fewer are run once the "
        "decision is settled) ...",
        ge=0,
        le=1000,
    )
    dependency_jitter_seconds: Count = _day_seconds(
        10800, "... each incident moved by up to this many seconds either way ..."
    )
    dependency_alpha: Number = _probability(
        0.05,
        "... a neighbourhood's bursts are believed when this unlikely under it (shared between "
        "the strengths tested: any burst led by the supporting service, one whose services "
        "resolve together, and one on which the whole neighbourhood does).",
    )

    @model_validator(mode="after")
    def _joint_range(self) -> GroupingSection:
        if self.min_joint_services > self.max_joint_services:
            raise _ordered(
                ("min_joint_services", "max_joint_services"),
                f"min_joint_services {self.min_joint_services} is above max_joint_services "
                f"{self.max_joint_services}",
            )
        return self


def _default(kind: type[Section]) -> Any:
    return Field(default_factory=kind)


class Settings(BaseModel):
    """The whole configuration file: one table per section, every section optional."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    time: TimeSection = _default(TimeSection)
    hours: HoursSection = _default(HoursSection)
    interruptions: InterruptionsSection = _default(InterruptionsSection)
    noise: NoiseSection = _default(NoiseSection)
    service_settings: ServiceSettingsSection = _default(ServiceSettingsSection)
    major: MajorSection = _default(MajorSection)
    health: HealthSection = _default(HealthSection)
    recommendations: RecommendationsSection = _default(RecommendationsSection)
    grouping: GroupingSection = _default(GroupingSection)


SECTIONS: dict[str, type[Section]] = {
    name: info.default_factory  # type: ignore[misc]
    for name, info in Settings.model_fields.items()
}
_DEFAULTS = Settings()
