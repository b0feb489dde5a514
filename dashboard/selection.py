"""The view a user picked in the sidebar (:class:`Filters`) and what the sidebar offers
(:class:`FilterChoices`): plain values, no Streamlit and no warehouse access.

Priorities are picked by id; :data:`NO_PRIORITY` stands for incidents without a priority (the
read queries' ``in_selection`` macro matches a missing value as ``'(none)'``). A custom field
(``incident_custom_fields``) is one field by name and some of its values, ``'(none)'`` for
incidents on which it is not set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

NO_PRIORITY = "(none)"


@dataclass(frozen=True)
class Filters:
    """The view the user picked: a date range (inclusive, reporting time zone) and id lists.

    Empty tuples mean "all".
    """

    start: date
    end: date
    team_ids: tuple[str, ...] = ()
    service_ids: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    priority_ids: tuple[str, ...] = ()
    custom_field: str = ""
    custom_values: tuple[str, ...] = ()

    def instants(self, time_zone: str) -> tuple[datetime, datetime]:
        """``[start 00:00, end + 1 day 00:00)`` in ``time_zone`` as aware datetimes."""
        zone = ZoneInfo(time_zone)
        return (
            datetime.combine(self.start, datetime.min.time(), zone),
            datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone),
        )

    def weeks(self) -> tuple[date, date, int]:
        """Monday of the first and of the last week touched, and the number of weeks."""
        first = self.start - timedelta(days=self.start.weekday())
        last = self.end - timedelta(days=self.end.weekday())
        return first, last, (last - first).days // 7 + 1

    def incident_args(self, time_zone: str) -> dict[str, Any]:
        """The parameters every incident-level read query takes (dashboard/incident_list,
        weekly_incidents, group_metrics): the range's instants and each selection as a list."""
        start_ts, end_ts = self.instants(time_zone)
        return {
            "start_ts": start_ts,
            "end_ts": end_ts,
            "team_ids": list(self.team_ids),
            "service_ids": list(self.service_ids),
            "urgencies": list(self.urgencies),
            "priority_ids": list(self.priority_ids),
            "custom_field": self.custom_field,
            # No value picked, or no field: the custom-field filter keeps every incident.
            "custom_values": list(self.custom_values) if self.custom_field else [],
        }


@dataclass(frozen=True)
class FilterChoices:
    """What the filter widgets offer: teams, services (with their team), urgencies,
    priorities (id to name, most severe first, :data:`NO_PRIORITY` last), the data period, and
    the custom fields (name to display name and values, commonest first, ``'(none)'`` last;
    empty when the account has none)."""

    teams: dict[str, str]
    services: dict[str, str]
    service_team: dict[str, str]
    urgencies: list[str]
    first_day: date
    last_day: date
    priorities: dict[str, str] = field(default_factory=dict)
    custom_fields: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
