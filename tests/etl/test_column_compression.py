"""A model's ``-- compression: column codec`` header (etl.incremental.create_table_as): the
table holds what ``create table as`` would, the named column is stored with that codec, rows
inserted later (an incremental refresh) too, and a column the model does not have is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from etl.incremental import create_table_as

# One row in nine with a long JSON text, the others NULL (as stg_log_entries.trigger_details).
SQL = """-- compression: details zstd
select
    i as id,
    case when i % 9 = 0 then
        '{"alertname": "HighLatency", "instance": "web-' || i || '", "labels": '
        || repeat('{"team": "payments", "severity": "critical"}', 20) || '}'
    end as details,
    i % 7 as bucket
from range($first, $last) as t(i)
"""


def _codecs(con: duckdb.DuckDBPyConnection, table: str, column: str) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "select distinct compression from pragma_storage_info(?)"
            " where column_name = ? and segment_type <> 'VALIDITY'",
            [table, column],
        ).fetchall()
    }


def test_a_named_column_is_stored_with_its_codec_and_keeps_it(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_table_as(con, "with_codec", SQL, {"first": 0, "last": 200_000})
    con.execute(
        "create table plain as "
        + SQL.split("\n", 1)[1].replace("$first", "0").replace("$last", "200000")
    )
    # The same rows and types as create table as.
    assert con.execute("describe with_codec").fetchall() == con.execute("describe plain").fetchall()
    assert con.execute("select * from with_codec except all select * from plain").fetchall() == []
    assert con.execute("select count(*) from with_codec").fetchall() == [(200_000,)]
    # An incremental refresh inserts into the table: its rows take the column's codec too.
    con.execute(
        "insert into with_codec by name " + SQL,
        {"first": 200_000, "last": 400_000},
    )
    con.execute("checkpoint")
    assert _codecs(con, "with_codec", "details") == {"ZSTD"}
    # The other columns, and the table without the header, are left to DuckDB.
    assert "ZSTD" not in _codecs(con, "plain", "details")
    assert "ZSTD" not in _codecs(con, "with_codec", "bucket")
    con.close()


def test_a_codec_for_a_column_the_model_lacks_is_refused() -> None:
    con = duckdb.connect()
    with pytest.raises(ValueError, match=r"\['detail'\]"):
        create_table_as(
            con, "typo", SQL.replace("details zstd", "detail zstd"), {"first": 0, "last": 9}
        )


def test_stg_log_entries_names_zstd_for_its_details() -> None:
    from etl.transform import discover_models

    (model,) = [m for m in discover_models() if m.name == "stg_log_entries"]
    assert "-- compression: trigger_details zstd" in model.sql


def test_raw_payloads_are_stored_with_zstd_through_an_upsert(tmp_path: Path) -> None:
    # etl.warehouse.RAW_SCHEMA: what a sync creates; the loader's upsert keeps the codec.
    from etl.load import sql as load_sql
    from etl.warehouse import ensure_raw_schema

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    upsert = load_sql("upsert_raw").replace("{table}", "raw_log_entries")
    ids = [f"L{i:06d}" for i in range(60_000)]
    payloads = [
        f'{{"id": "{i}", "type": "notify_log_entry", "channel": {{"type": "auto"}}}}' for i in ids
    ]
    con.execute(
        upsert, {"ids": ids, "payloads": payloads, "fetched_at": datetime(2026, 3, 2, tzinfo=UTC)}
    )
    con.execute("checkpoint")
    assert _codecs(con, "raw_log_entries", "payload") == {"ZSTD"}
    con.execute(
        upsert,
        {
            "ids": ids[:100],
            "payloads": payloads[:100],
            "fetched_at": datetime(2026, 3, 3, tzinfo=UTC),
        },
    )
    con.execute("checkpoint")
    assert _codecs(con, "raw_log_entries", "payload") == {"ZSTD"}
    con.close()
