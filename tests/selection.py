"""The parameters of the dashboard's filtered read queries (the selected_incident macro's
arguments), written once for the tests that call those queries through the Reader."""

from __future__ import annotations

from datetime import datetime


def no_picks(start_ts: datetime, end_ts: datetime, **changes) -> dict:
    """A created_at range with nothing picked (every filter keeps every incident), then changes."""
    args = {
        "start_ts": start_ts,
        "end_ts": end_ts,
        "team_ids": [],
        "service_ids": [],
        "urgencies": [],
        "priority_ids": [],
        "custom_field": "",
        "custom_values": [],
    }
    return {**args, **changes}
