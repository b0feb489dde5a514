"""The one read path: queries by name, parameters declared in each file's header and checked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from etl.queries import Reader
from etl.queries.sql_files import all_queries, load_query, parse


def test_every_query_file_declares_its_parameters():
    names = all_queries()
    assert "dashboard/weekly_incidents" in names and "report/account_weekly" in names
    for name in names:
        load_query(name)  # raises when the header and the statement disagree


def test_header_and_statement_must_agree():
    with pytest.raises(ValueError, match="uses"):
        parse("x/y", "-- params: none\nselect $start_ts")
    with pytest.raises(ValueError, match="no '-- params:'"):
        parse("x/y", "select 1")


@pytest.fixture
def query():
    return load_query("dashboard/weekly_incidents")


def _args(**changes):
    args = {
        "start_ts": datetime(2026, 1, 1, tzinfo=UTC),
        "end_ts": datetime(2026, 2, 1, tzinfo=UTC),
        "team_ids": [],
        "service_ids": ("P1",),
        "urgencies": [],
    }
    return {**args, **changes}


def test_binding_checks_names_and_types(query):
    assert set(query.bind(_args())) == set(query.params)
    with pytest.raises(TypeError, match="missing parameter.*urgencies"):
        query.bind({k: v for k, v in _args().items() if k != "urgencies"})
    with pytest.raises(TypeError, match="unknown parameter.*team_id\\b"):
        query.bind(_args(team_id="P1"))
    with pytest.raises(TypeError, match="start_ts must be timestamptz"):
        query.bind(_args(start_ts=datetime(2026, 1, 1)))  # naive
    with pytest.raises(TypeError, match="team_ids must be varchar\\[\\]"):
        query.bind(_args(team_ids="P1"))
    with pytest.raises(TypeError, match="start_week must be date"):
        load_query("dashboard/responders").bind(
            {
                "start_week": datetime(2026, 1, 5, tzinfo=UTC),
                "end_week": date(2026, 1, 5),
                "team_ids": [],
            }
        )


def test_empty_lists_bind_as_empty_varchar_lists(tmp_path):
    import duckdb

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table _rejects (source varchar, record_key varchar, reason varchar,"
            " payload varchar, run_id varchar, rejected_at timestamptz)"
        )
    reader = Reader(path)
    try:
        assert reader.query("dashboard/reject_samples", limit=5).empty
        assert reader.query("dashboard/sync_runs", limit=5) is None  # optional table absent
        with pytest.raises(TypeError, match="limit must be bigint"):
            reader.query("dashboard/reject_samples", limit="5")
    finally:
        reader.close()
