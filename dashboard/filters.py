"""Sidebar filters (date range, team, service, urgency, priority) kept in the URL so a view can be
shared.

The URL holds ids, not display names (``?start=2026-10-01&end=2026-11-22&team=PXXXX&urgency=high
&priority=PXXXX``; repeated keys for several values; ``priority=(none)`` for incidents without a
priority; ``custom_field=root_cause&custom_value=deploy`` for a custom field's values, offered
only when the account has custom fields). On the first run of a session the URL seeds the widgets'
state; afterwards the widgets own the state and every run writes it back to
``st.query_params``, so the address bar always describes the view, also after a page switch.
Unknown ids and malformed dates in a shared link are ignored rather than failing the page.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard.selection import FilterChoices, Filters

DEFAULT_WEEKS = 12
_SAVED = "_filter_values"
_KEY_DATES, _KEY_TEAM, _KEY_SERVICE, _KEY_URGENCY = "f_dates", "f_team", "f_service", "f_urgency"
_KEY_PRIORITY = "f_priority"
_KEY_FIELD, _KEY_FIELD_VALUES = "f_custom_field", "f_custom_values"


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def default_range(choices: FilterChoices) -> tuple[date, date]:
    """The last twelve weeks of data (Monday to the last day with incidents)."""
    end = choices.last_day
    start = end - timedelta(days=end.weekday()) - timedelta(weeks=DEFAULT_WEEKS - 1)
    return max(start, choices.first_day), end


def _seed_from_url(choices: FilterChoices) -> None:
    params = st.query_params
    lo, hi = choices.first_day, choices.last_day
    start, end = default_range(choices)
    url_start, url_end = _parse_date(params.get("start")), _parse_date(params.get("end"))
    if url_start and url_end and url_start <= url_end:
        start, end = min(max(url_start, lo), hi), max(min(url_end, hi), lo)
    st.session_state[_KEY_DATES] = (start, end)
    st.session_state[_KEY_TEAM] = [t for t in params.get_all("team") if t in choices.teams]
    st.session_state[_KEY_SERVICE] = [s for s in params.get_all("service") if s in choices.services]
    st.session_state[_KEY_URGENCY] = [
        u for u in params.get_all("urgency") if u in choices.urgencies
    ]
    st.session_state[_KEY_PRIORITY] = [
        p for p in params.get_all("priority") if p in choices.priorities
    ]
    field = params.get("custom_field")
    field = field if field in choices.custom_fields else ""
    values = choices.custom_fields[field][1] if field else ()
    st.session_state[_KEY_FIELD] = field
    st.session_state[_KEY_FIELD_VALUES] = [v for v in params.get_all("custom_value") if v in values]


def _write_url(f: Filters) -> None:
    wanted: dict[str, list[str]] = {
        "start": [f.start.isoformat()],
        "end": [f.end.isoformat()],
        "team": list(f.team_ids),
        "service": list(f.service_ids),
        "urgency": list(f.urgencies),
        "priority": list(f.priority_ids),
        "custom_field": [f.custom_field] if f.custom_field else [],
        "custom_value": list(f.custom_values),
    }
    for key, values in wanted.items():
        if values:
            if st.query_params.get_all(key) != values:
                st.query_params[key] = values
        elif key in st.query_params:
            del st.query_params[key]


def sidebar_filters(choices: FilterChoices) -> Filters:
    """Draw the filters in the sidebar and return the chosen view (also written to the URL)."""
    keys = (
        _KEY_DATES,
        _KEY_TEAM,
        _KEY_SERVICE,
        _KEY_URGENCY,
        _KEY_PRIORITY,
        _KEY_FIELD,
        _KEY_FIELD_VALUES,
    )
    saved = st.session_state.get(_SAVED)
    if saved is None:
        _seed_from_url(choices)
    else:
        # Each page draws its own copy of these widgets, and Streamlit does not carry a
        # widget's value over to a widget of another page; re-assigning the value (or the
        # last one saved, when Streamlit dropped it) makes the new page start from it.
        for key in keys:
            st.session_state[key] = st.session_state[key] if key in st.session_state else saved[key]
    with st.sidebar:
        st.header("Filters")
        picked = st.date_input(
            "Date range",
            min_value=choices.first_day,
            max_value=choices.last_day,
            key=_KEY_DATES,
            help="Incidents created in these days (reporting time zone).",
        )
        _pick_by_name("Team", list(choices.teams), choices.teams, _KEY_TEAM, "All teams")
        teams = st.session_state[_KEY_TEAM]
        # Only services of the chosen teams are offered; a stale choice is dropped first,
        # because Streamlit rejects a default that is not among the options.
        services = [
            s for s in choices.services if not teams or choices.service_team.get(s) in teams
        ]
        st.session_state[_KEY_SERVICE] = [
            s for s in st.session_state.get(_KEY_SERVICE, []) if s in services
        ]
        _pick_by_name("Service", services, choices.services, _KEY_SERVICE, "All services")
        st.multiselect("Urgency", choices.urgencies, key=_KEY_URGENCY, placeholder="All urgencies")
        _pick_by_name(
            "Priority",
            list(choices.priorities),
            choices.priorities,
            _KEY_PRIORITY,
            "All priorities",
            help="The incident's priority (SEV level), most severe first.",
        )
        _custom_field_filter(choices)
    start, end = _range(picked, choices)
    view = Filters(
        start=start,
        end=end,
        team_ids=tuple(st.session_state[_KEY_TEAM]),
        service_ids=tuple(st.session_state[_KEY_SERVICE]),
        urgencies=tuple(st.session_state[_KEY_URGENCY]),
        priority_ids=tuple(st.session_state[_KEY_PRIORITY]),
        custom_field=st.session_state[_KEY_FIELD],
        custom_values=tuple(st.session_state[_KEY_FIELD_VALUES]),
    )
    _write_url(view)
    st.session_state[_SAVED] = {key: st.session_state[key] for key in keys}
    return view


def _pick_by_name(
    label: str,
    ids: list[str],
    names: dict[str, str],
    key: str,
    placeholder: str,
    help: str | None = None,
) -> None:
    """A multiselect of ids shown by their names; the pick is in ``st.session_state[key]``."""
    st.multiselect(label, ids, format_func=names.get, key=key, placeholder=placeholder, help=help)


def _custom_field_filter(choices: FilterChoices) -> None:
    """A custom field and some of its values; nothing is drawn when the account has none."""
    if not choices.custom_fields:
        st.session_state[_KEY_FIELD], st.session_state[_KEY_FIELD_VALUES] = "", []
        return
    fields = choices.custom_fields
    st.selectbox(
        "Custom field",
        ["", *fields],
        format_func=lambda name: fields[name][0] if name else "Any",
        key=_KEY_FIELD,
        help="Narrow the view to incidents with these values of one of the account's incident "
        "custom fields.",
    )
    field = st.session_state[_KEY_FIELD]
    values = fields[field][1] if field else ()
    # A value of another field is dropped first: Streamlit rejects a default not offered.
    st.session_state[_KEY_FIELD_VALUES] = [
        v for v in st.session_state.get(_KEY_FIELD_VALUES, []) if v in values
    ]
    st.multiselect(
        "Field values",
        list(values),
        format_func=lambda v: "(not set)" if v == "(none)" else v,
        key=_KEY_FIELD_VALUES,
        placeholder="All values",
        disabled=not field,
    )


def _range(picked: object, choices: FilterChoices) -> tuple[date, date]:
    # While a user is mid-way through picking a range the widget returns one date.
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
    if isinstance(picked, date):
        return picked, picked
    return default_range(choices)
