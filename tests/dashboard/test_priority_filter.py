"""The priority filter (issue 14 part 6): offered beside urgency by id, most severe first with
'(no priority)' last, kept in the URL (``priority=<id>``, ``priority=(none)``), and applied by
every incident figure urgency applies to. Expected values are plain queries of the marts."""

from __future__ import annotations

import pytest

from dashboard import fmt
from tests.dashboard.conftest import frame_with, mart, no_errors

LAST_WEEK = "2026-02-23"  # the canonical warehouse's last week (tests/dashboard/test_pages.py)


def _priorities(db) -> list[tuple[str, str]]:
    """(id, name) of the account's priorities, most severe first (stg_priorities' rank)."""
    return mart(db, "select priority_id, priority_name from stg_priorities order by priority_rank")


def _weekly_count(db, week: str, names: list[str]) -> int:
    """Incidents of the week with these priority names (the priority rows of the mart)."""
    ((count,),) = mart(
        db,
        "select coalesce(sum(total_incident_count), 0) from incident_weekly_by_dimension "
        "where dimension = 'priority' and week_start = ? and list_contains(?, dimension_value)",
        [week, names],
    )
    return int(count)


def _incidents(metrics) -> str:
    return {m.label: m.value for m in metrics}["Incidents"]


def test_priorities_are_offered_most_severe_first_with_no_priority_last(app, pipeline_db):
    at = app(pipeline_db).run()
    no_errors(at)
    widget = at.multiselect(key="f_priority")
    used = {i for (i,) in mart(pipeline_db, "select distinct priority_id from incidents")}
    expected = [name for pid, name in _priorities(pipeline_db) if pid in used]
    assert None in used, "the canonical account has incidents without a priority"
    assert widget.options == [*expected, "(no priority)"]
    assert widget.value == []


def test_priority_filter_round_trips_through_the_url(app, pipeline_db):
    (p1, p1_name), (p2, p2_name) = _priorities(pipeline_db)[:2]
    at = app(pipeline_db, {"priority": [p1, "(none)"]}).run()
    no_errors(at)
    assert at.multiselect(key="f_priority").value == [p1, "(none)"]
    assert at.query_params["priority"] == [p1, "(none)"]  # still the shared link
    count = _weekly_count(pipeline_db, LAST_WEEK, [p1_name, "(none)"])
    assert _incidents(at.metric) == fmt.number(count)

    at.multiselect(key="f_priority").set_value([p2]).run()
    no_errors(at)
    assert at.query_params["priority"] == p2
    count = _weekly_count(pipeline_db, LAST_WEEK, [p2_name])
    assert _incidents(at.metric) == fmt.number(count)

    # The page a shared link opens is the same view.
    shared = app(pipeline_db, {"priority": at.query_params["priority"]}).run()
    assert shared.multiselect(key="f_priority").value == [p2]
    assert _incidents(shared.metric) == _incidents(at.metric)

    at.multiselect(key="f_priority").set_value([]).run()
    no_errors(at)
    assert "priority" not in at.query_params


def test_unknown_priority_in_the_url_is_ignored(app, pipeline_db):
    at = app(pipeline_db, {"priority": ["NOPE", "<script>"]}).run()
    no_errors(at)
    assert at.multiselect(key="f_priority").value == []


@pytest.mark.parametrize("pick", ["top", "none"])
def test_priority_filter_narrows_the_tables_and_drill_down(app, pipeline_db, pick):
    (p1, name1), (p2, name2) = _priorities(pipeline_db)[:2]
    chosen = [p1, p2] if pick == "top" else ["(none)"]
    where = "priority_id in (?, ?)" if pick == "top" else "priority_id is null"
    params = [p1, p2] if pick == "top" else []
    at = app(pipeline_db, {"start": "2026-02-02", "end": "2026-03-01", "priority": chosen}).run()
    at.switch_page("views/services_teams.py").run()
    no_errors(at)
    teams = frame_with(at, "team_name", "total_incident_count")
    names = [name1, name2] if pick == "top" else ["(none)"]
    weeks = ("2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23")
    expected = sum(_weekly_count(pipeline_db, week, names) for week in weeks)
    assert teams["total_incident_count"].sum() == expected
    ((team_id, service_id),) = mart(
        pipeline_db,
        f"select team_id, service_id from incidents where {where} and team_id is not null "
        "and created_at >= '2026-02-02' group by all order by count(*) desc, 1, 2 limit 1",
        params,
    )
    at.selectbox(key="drill_team").set_value(team_id).run()
    at.selectbox(key="drill_service").set_value(service_id).run()
    no_errors(at)
    incidents = frame_with(at, "title", "priority_name")
    shown = set(incidents["priority_name"].fillna("(none)"))
    assert shown <= ({name1, name2} if pick == "top" else {"(none)"}) and shown
