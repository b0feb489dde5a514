"""The one read path: queries by name, parameters declared in each file's header and checked."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from etl.queries import Reader
from etl.queries.sql_files import all_queries, load_query, parse
from tests.selection import no_picks


def test_every_query_file_declares_its_parameters():
    names = all_queries()
    assert "dashboard/weekly_incidents" in names and "report/account_weekly" in names
    for name in names:
        load_query(name)  # raises when the header and the statement disagree


def test_read_queries_never_read_the_raw_layer():
    # The dashboard and the reports read what the build made (models and marts): what they
    # show is then one consistent build, and the raw layer stays the writers' own.
    raw = re.compile(r"\braw_[a-z_]+")
    readers = {name: raw.findall(load_query(name).sql) for name in all_queries()}
    assert {name: found for name, found in readers.items() if found} == {}


def test_header_and_statement_must_agree():
    with pytest.raises(ValueError, match="uses"):
        parse("x/y", "-- params: none\nselect $start_ts")
    with pytest.raises(ValueError, match="no '-- params:'"):
        parse("x/y", "select 1")


@pytest.fixture
def query():
    return load_query("dashboard/weekly_incidents")


def _args(**changes):
    january = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    return no_picks(*january, service_ids=("P1",)) | changes


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


def _group_args(**changes):
    return no_picks(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), **changes)


@pytest.mark.parametrize("stored", ["none", "older"])
def test_a_warehouse_built_before_the_macro_still_reads(pipeline_db, tmp_path, stored):
    """The incident-metrics macro came with a later build; a warehouse without it (or with an
    older body) reads the same figures: the reader creates the models' macros on its connection."""
    import shutil

    import duckdb

    old = tmp_path / "old.duckdb"
    shutil.copyfile(pipeline_db, old)
    old.chmod(0o644)
    with duckdb.connect(str(old)) as con:
        con.execute("drop macro incident_metrics")
        if stored == "older":
            con.execute("create macro incident_metrics(incident) as {'total_incident_count': -1}")
    current, before = Reader(pipeline_db), Reader(old)
    try:
        group = {
            "grain": "team",
            "week_count": 4,
            "start_week": date(2026, 2, 2),
            "end_week": date(2026, 2, 23),
        }
        for name, params in (
            ("dashboard/weekly_incidents", _group_args()),
            ("dashboard/group_metrics", _group_args() | group),
        ):
            expected = current.query(name, **params)
            got = before.query(name, **params)
            assert len(got) > 0
            assert got.equals(expected), name
    finally:
        current.close()
        before.close()
