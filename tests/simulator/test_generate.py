"""The scale generator writes the simulated account straight into the raw tables."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from etl.load import incident_reference, oncall_id
from etl.load import sql as load_sql
from etl.warehouse import RAW_RESOURCES, ensure_raw_schema
from simulator.account import generate_account
from simulator.generate import generate_to_warehouse
from tests.conftest import SIM_END as END


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    db = tmp_path_factory.mktemp("gen") / "sim.duckdb"
    result = generate_to_warehouse(db, seed=7, days=7, scale=1.0, end=END, workers=0)
    return db, result, generate_account(seed=7, days=7, scale=1.0, end=END)


def _rows(db, table: str) -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(f"select id, payload::varchar from {table}").fetchall()
    finally:
        con.close()
    return {row_id: json.loads(payload) for row_id, payload in rows}


def test_counts_match_the_account(generated):
    db, result, account = generated
    expected = {
        "incidents": len(account.incidents),
        "log_entries": sum(len(i.log_entries) for i in account.incidents),
        "alerts": sum(len(i.alerts) for i in account.incidents),
        "services": 25,
        "teams": 6,
        "users": 40,
        "priorities": 5,
        "escalation_policies": len(account.escalation_policies),
        "schedules": len(account.schedules),
        "oncalls": len(account.oncalls),
        "service_dependencies": 25,  # one answer per service, empty or not
    }
    assert {k: result[k] for k in expected} == expected
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name, count in expected.items():
            assert con.execute(f"select count(*) from raw_{name}").fetchall()[0][0] == count
        fetched = con.execute(
            "select distinct fetched_at from raw_incidents union select distinct fetched_at "
            "from raw_oncalls"
        ).fetchall()
    finally:
        con.close()
    assert [row[0] for row in fetched] == [END]
    assert not db.with_name(db.name + ".building").exists()


def test_rows_are_what_the_server_serves_and_the_loader_stores(generated):
    db, _result, account = generated
    incidents = _rows(db, "raw_incidents")
    log_entries = _rows(db, "raw_log_entries")
    alerts = _rows(db, "raw_alerts")
    for sim in account.incidents:
        assert incidents[sim.incident["id"]] == sim.incident
        reference = incident_reference(sim.incident)
        assert set(reference) == {"id", "type", "summary", "html_url"}
        for entry in sim.log_entries:
            assert log_entries[entry["id"]] == dict(entry, incident=reference)
        for alert in sim.alerts:
            assert alerts[alert["id"]] == alert
    oncalls = _rows(db, "raw_oncalls")
    assert oncalls == {oncall_id(o): o for o in account.oncalls}
    users = _rows(db, "raw_users")
    assert users == {u["id"]: u for u in account.users}


def test_sync_run_and_ground_truth_file(generated):
    db, result, account = generated
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select mode, status, since, until, records_json::varchar from _sync_runs"
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == 1
    mode, status, since, until, records = rows[0]
    assert (mode, status, since, until) == ("generate", "ok", account.start, account.end)
    assert json.loads(records)["incidents"] == len(account.incidents)
    truth_path = db.with_name(db.name + ".ground_truth.json")
    assert result["ground_truth"] == str(truth_path)
    assert json.loads(truth_path.read_text()) == account.ground_truth


def test_generating_again_replaces_the_raw_layer(tmp_path):
    db = tmp_path / "again.duckdb"
    first = generate_to_warehouse(db, seed=1, days=2, scale=0.5, end=END, workers=0)
    con = duckdb.connect(str(db))
    con.execute("insert into _watermarks values ('log_entries', now(), now())")
    con.close()
    second = generate_to_warehouse(db, seed=2, days=2, scale=0.5, end=END, workers=0)
    con = duckdb.connect(str(db), read_only=True)
    try:
        incidents = con.execute("select count(*) from raw_incidents").fetchall()[0][0]
        watermarks = con.execute("select count(*) from _watermarks").fetchall()[0][0]
        runs = con.execute("select count(*) from _sync_runs").fetchall()[0][0]
    finally:
        con.close()
    assert incidents == second["incidents"] and first["services"] == second["services"]
    assert watermarks == 0 and runs == 2


def _raw_schema(con) -> set[tuple]:
    columns = con.execute(
        "select table_name, column_name, data_type, is_nullable from duckdb_columns() "
        "where table_name like 'raw_%'"
    ).fetchall()
    keys = con.execute(
        "select table_name, constraint_type, constraint_column_names from duckdb_constraints() "
        "where table_name like 'raw_%'"
    ).fetchall()
    return set(columns) | {(t, kind, tuple(names)) for t, kind, names in keys}


def test_the_raw_tables_have_the_warehouses_schema_and_key(generated, tmp_path):
    # The generator fills its raw tables without their key and adds it at the end
    # (simulator/sql/clear_raw.sql): the result must be the table a sync creates and upserts.
    db, _result, _account = generated
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db, copy)
    fresh = duckdb.connect()
    ensure_raw_schema(fresh)
    con = duckdb.connect(str(copy))
    try:
        expected = _raw_schema(fresh)
        assert {t for t, *_ in expected} == {f"raw_{name}" for name in RAW_RESOURCES}
        assert _raw_schema(con) == expected
        # Payloads stored with zstd, as etl.warehouse.RAW_SCHEMA declares them.
        codecs = con.execute(
            "select distinct compression from pragma_storage_info('raw_log_entries')"
            " where column_name = 'payload' and segment_type <> 'VALIDITY'"
        ).fetchall()
        assert codecs == [("ZSTD",)]
        ((incident_id,),) = con.execute("select min(id) from raw_incidents").fetchall()
        upsert = load_sql("upsert_raw").replace("{table}", "raw_incidents")
        con.execute(upsert, {"ids": [incident_id], "payloads": ['{"changed": true}'],
                             "fetched_at": END})  # fmt: skip
        rows = con.execute(
            "select count(*), count(*) filter (where payload->>'changed' = 'true') "
            "from raw_incidents where id = ?",
            [incident_id],
        ).fetchall()
        assert rows == [(1, 1)]
        with pytest.raises(duckdb.ConstraintException):
            con.execute("insert into raw_incidents select * from raw_incidents limit 1")
    finally:
        con.close()
        fresh.close()


@pytest.mark.slow
def test_worker_processes_write_exactly_the_same_rows(tmp_path):
    inline = tmp_path / "inline.duckdb"
    parallel = tmp_path / "parallel.duckdb"
    a = generate_to_warehouse(inline, seed=9, days=4, scale=1.5, end=END, workers=0)
    b = generate_to_warehouse(parallel, seed=9, days=4, scale=1.5, end=END, workers=2)
    assert {k: v for k, v in a.items() if k not in ("seconds", "ground_truth")} == {
        k: v for k, v in b.items() if k not in ("seconds", "ground_truth")
    }
    for table in ("raw_incidents", "raw_log_entries", "raw_alerts", "raw_oncalls"):
        assert _rows(inline, table) == _rows(parallel, table)
    assert json.loads((tmp_path / "inline.duckdb.ground_truth.json").read_text()) == json.loads(
        (tmp_path / "parallel.duckdb.ground_truth.json").read_text()
    )


def test_rows_are_inserted_in_whole_row_groups_and_none_is_lost(generated, tmp_path, monkeypatch):
    """Rows wait until they fill whole row groups (a small one here, so that many inserts
    carry a remainder over); only the last insert takes a part-filled one, and the tables
    hold exactly the rows of a generation in one insert."""
    import simulator.generate as generate

    monkeypatch.setattr(generate, "ROW_GROUP_ROWS", 20)
    inserted: list[tuple[str, int]] = []
    real = generate._raw_inserter

    def spying(con, fetched_at, counts):
        insert_all = real(con, fetched_at, counts)

        def spy(batches):
            inserted.extend((name, sum(t.num_rows for t in ts)) for name, ts in batches.items())
            insert_all(batches)

        return spy

    monkeypatch.setattr(generate, "_raw_inserter", spying)
    db = tmp_path / "grouped.duckdb"
    generate_to_warehouse(db, seed=7, days=7, scale=1.0, end=END, workers=0)
    reference, _, _ = generated
    for table in ("raw_incidents", "raw_log_entries", "raw_alerts"):
        name = table.removeprefix("raw_")
        sizes = [rows for resource, rows in inserted if resource == name]
        assert len(sizes) > 2, sizes
        assert all(rows % 20 == 0 for rows in sizes[:-1]), sizes
        assert _rows(db, table) == _rows(reference, table)


def test_whole_row_groups_keeps_the_rest_in_order(monkeypatch):
    import pyarrow as pa

    import simulator.generate as generate

    monkeypatch.setattr(generate, "ROW_GROUP_ROWS", 4)
    table = lambda ids: pa.table({"id": [str(i) for i in ids]})  # noqa: E731
    buffered = {"a": [table(range(3)), table(range(3, 10))], "b": [table(range(3))]}
    ready = generate._whole_row_groups(buffered, everything=False)
    assert list(ready) == ["a"]
    assert pa.concat_tables(ready["a"])["id"].to_pylist() == [str(i) for i in range(8)]
    assert pa.concat_tables(buffered["a"])["id"].to_pylist() == ["8", "9"]
    assert len(buffered["b"][0]) == 3
    rest = generate._whole_row_groups(buffered, everything=True)
    assert {k: sum(t.num_rows for t in v) for k, v in rest.items()} == {"a": 2, "b": 3}
    assert buffered == {"a": [], "b": []}
