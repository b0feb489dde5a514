"""`pagerlens export --format iceberg`: tables read back with pyiceberg, partitioned by week,
and later runs that add snapshots only for what changed (a new build overwrites the marts;
raw rows fetched since the last export are appended or replace their ids)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from etl.cli import main
from etl.queries import MART_TABLES
from etl.warehouse import building
from tests.warehouse import writable_copy

pytest.importorskip("pyiceberg", reason="pyiceberg is in the lake extra (dev installs it)")

from etl.export.iceberg import (  # noqa: E402
    BUILD_PROPERTY,
    WATERMARK_PROPERTY,
    export_iceberg,
    open_catalog,
)


def _counts(db, tables) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}


def _snapshots(catalog, name: str) -> list[int]:
    return [s.snapshot_id for s in catalog.load_table(("pagerlens", name)).snapshots()]


@pytest.fixture
def warehouse(pipeline_db, tmp_path):
    return writable_copy(pipeline_db, tmp_path / "wh")


def test_marts_read_back_with_pyiceberg(pipeline_db, tmp_path):
    out = tmp_path / "iceberg"
    result = export_iceberg(pipeline_db, out)
    catalog = open_catalog(out)
    counts = _counts(pipeline_db, MART_TABLES)
    assert {t.name: t.action for t in result.tables} == dict.fromkeys(MART_TABLES, "created")
    for name in MART_TABLES:
        table = catalog.load_table(("pagerlens", name))
        assert table.scan().to_arrow().num_rows == counts[name], name
        assert table.properties[BUILD_PROPERTY] == result.build_id
    incidents = catalog.load_table(("pagerlens", "incidents"))
    spec = incidents.spec()
    assert [(f.name, str(f.transform)) for f in spec.fields] == [("week_start", "identity")]
    with duckdb.connect(str(pipeline_db), read_only=True) as con:
        expected = con.execute(
            "select incident_id, title, week_start, seconds_to_resolve from incidents"
            " order by incident_id limit 1"
        ).fetchall()[0]
        total = con.execute("select sum(total_incident_count) from team_weekly").fetchall()[0][0]
    row = incidents.scan(row_filter=f"incident_id == '{expected[0]}'").to_arrow().to_pylist()
    assert [(r["title"], r["week_start"], r["seconds_to_resolve"]) for r in row] == [expected[1:]]
    teams = catalog.load_table(("pagerlens", "team_weekly")).scan().to_arrow()
    assert sum(teams.column("total_incident_count").to_pylist()) == total
    # A week's partition is pruned, not filtered after reading everything.
    week = expected[2].isoformat()
    planned = incidents.scan(row_filter=f"week_start == '{week}'").plan_files()
    assert 0 < len(list(planned)) < len(list(incidents.scan().plan_files()))


def test_a_run_over_the_same_build_adds_no_snapshot(pipeline_db, tmp_path):
    out = tmp_path / "iceberg"
    export_iceberg(pipeline_db, out)
    catalog = open_catalog(out)
    before = {name: _snapshots(catalog, name) for name in MART_TABLES}
    again = export_iceberg(pipeline_db, out)
    assert {t.action for t in again.tables} == {"unchanged"}
    assert {name: _snapshots(catalog, name) for name in MART_TABLES} == before


def test_a_new_build_overwrites_each_mart_as_a_new_snapshot(warehouse, tmp_path):
    from etl.config import Config
    from etl.transform import build

    out = tmp_path / "iceberg"
    first = export_iceberg(warehouse, out)
    catalog = open_catalog(out)
    incidents = catalog.load_table(("pagerlens", "incidents"))
    old_snapshot = incidents.current_snapshot().snapshot_id
    with building(warehouse) as con:  # a late change: one incident leaves the account
        con.execute("delete from raw_incidents where id = (select min(id) from raw_incidents)")
    build(warehouse, Config())
    second = export_iceberg(warehouse, out)
    assert second.build_id != first.build_id
    assert {t.action for t in second.tables} == {"overwritten"}
    incidents = incidents.refresh()
    assert incidents.properties[BUILD_PROPERTY] == second.build_id
    assert incidents.scan().to_arrow().num_rows == _counts(warehouse, ["incidents"])["incidents"]
    # The previous build is still there to read (time travel).
    assert incidents.scan(snapshot_id=old_snapshot).to_arrow().num_rows == (
        first.tables[0].rows_written
    )


def _add_raw_changes(db, *, at: datetime) -> tuple[str, str]:
    """One new log entry, one log entry fetched again, one incident re-fetched with a new
    status: what a nightly sync loads. Returns the changed incident's id and new status."""
    with building(db) as con:
        entry_id, entry = _first_payload(con, "raw_log_entries")
        con.execute(
            "insert into raw_log_entries values (?, ?::json, ?)",
            ["PNEWENTRY1", json.dumps(entry | {"id": "PNEWENTRY1"}), at],
        )
        con.execute("update raw_log_entries set fetched_at = ? where id = ?", [at, entry_id])
        incident_id, incident = _first_payload(con, "raw_incidents")
        con.execute(
            "update raw_incidents set payload = ?::json, fetched_at = ? where id = ?",
            [json.dumps(incident | {"status": "reassigned-for-test"}), at, incident_id],
        )
    return incident_id, "reassigned-for-test"


def _first_payload(con, raw_table: str) -> tuple[str, dict]:
    """The id and decoded payload of the raw table's first row (by id)."""
    row_id, payload = con.execute(
        f"select id, payload::varchar from {raw_table} order by id limit 1"
    ).fetchall()[0]
    return row_id, json.loads(payload)


def test_raw_rows_fetched_since_the_last_export_are_appended_or_replace_their_id(
    warehouse, tmp_path
):
    out = tmp_path / "iceberg"
    first = {t.name: t for t in export_iceberg(warehouse, out, raw=True).tables}
    assert first["raw_log_entries"].action == "created"
    catalog = open_catalog(out)
    entries = catalog.load_table(("pagerlens", "raw_log_entries"))
    incidents = catalog.load_table(("pagerlens", "raw_incidents"))
    held_entries = entries.scan().to_arrow().num_rows
    held_incidents = incidents.scan().to_arrow().num_rows
    later = datetime.now(UTC) + timedelta(days=1)
    incident_id, status = _add_raw_changes(warehouse, at=later)

    second = {t.name: t for t in export_iceberg(warehouse, out, raw=True).tables}
    assert (second["raw_log_entries"].action, second["raw_log_entries"].rows_written) == (
        "appended",
        1,  # the new entry; the one fetched again is already held
    )
    assert (second["raw_incidents"].action, second["raw_incidents"].rows_written) == (
        "replaced ids",
        1,
    )
    assert second["raw_services"].action == "unchanged"
    assert {second[m].action for m in MART_TABLES} == {"unchanged"}  # same build
    entries, incidents = entries.refresh(), incidents.refresh()
    ids = entries.scan(selected_fields=("id",)).to_arrow().column("id").to_pylist()
    assert len(ids) == held_entries + 1 == len(set(ids))
    rows = incidents.scan().to_arrow()
    assert rows.num_rows == held_incidents
    changed = [r for r in rows.to_pylist() if r["id"] == incident_id]
    assert [json.loads(r["payload"])["status"] for r in changed] == [status]
    assert incidents.properties[WATERMARK_PROPERTY] == later.isoformat()


def test_an_empty_raw_table_is_created_without_a_snapshot(warehouse, tmp_path):
    with building(warehouse) as con:
        con.execute("delete from raw_priorities")
    out = tmp_path / "iceberg"
    result = {t.name: t for t in export_iceberg(warehouse, out, raw=True).tables}
    assert (result["raw_priorities"].action, result["raw_priorities"].rows_written) == (
        "created",
        0,
    )
    table = open_catalog(out).load_table(("pagerlens", "raw_priorities"))
    assert table.current_snapshot() is None
    assert table.scan().to_arrow().schema.names == ["id", "payload", "fetched_at"]
    again = {t.name: t.action for t in export_iceberg(warehouse, out, raw=True).tables}
    assert again["raw_priorities"] == "unchanged"


def test_cli_writes_iceberg_and_says_what_changed(pipeline_db, tmp_path, capsys):
    out = tmp_path / "iceberg"
    args = ["export", "--db", str(pipeline_db), "--format", "iceberg", "--out", str(out)]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[0].startswith("incidents: created, ")
    assert first[-1].startswith("iceberg namespace pagerlens: 9 of 9 tables got a new snapshot")
    assert main(args) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith("iceberg namespace pagerlens: 0 of 9 tables got a new snapshot")
    )


def test_cli_rejects_a_catalog_option_without_a_value(pipeline_db):
    args = ["export", "--db", str(pipeline_db), "--format", "iceberg"]
    assert main([*args, "--catalog-option", "glue"]) == 2
