"""`pagerlens export` as Parquet: read back unchanged by DuckDB, pyarrow and polars, the
manifest, the week partitions, and a run that is atomic (a failed or killed run leaves the
previous export whole)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from etl.cli import main
from etl.export import ExportError, export_parquet, read_manifest
from etl.export import parquet as parquet_module
from etl.queries import MART_TABLES
from etl.warehouse import RAW_RESOURCES, building
from tests.warehouse import writable_copy

polars = pytest.importorskip("polars", reason="polars is in the lake extra (dev installs it)")

REPO = Path(__file__).resolve().parents[2]
WEEKLY = ("incidents", "service_weekly", "team_weekly", "responder_weekly")


@pytest.fixture(scope="module")
def exported(pipeline_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("lake") / "pagerlens"
    result = export_parquet(pipeline_db, out, raw=True)
    return pipeline_db, out, result


def _warehouse_counts(db: Path, tables) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f'select count(*) from "{t}"').fetchall()[0][0] for t in tables}


def _glob(out: Path, table: str) -> str:
    return str(out / table / "**" / "*.parquet")


def test_every_public_mart_and_raw_table_is_exported_with_its_row_count(exported):
    db, out, result = exported
    tables = [*MART_TABLES, *(f"raw_{r}" for r in RAW_RESOURCES)]
    counts = _warehouse_counts(db, tables)
    manifest = read_manifest(out)
    assert sorted(manifest["tables"]) == sorted(tables)
    assert {name: entry["rows"] for name, entry in manifest["tables"].items()} == counts
    assert counts["incidents"] > 100 and counts["raw_log_entries"] > counts["incidents"]
    assert {t.name: t.rows for t in result.tables} == counts


def test_duckdb_reads_every_table_back_row_for_row(exported):
    db, out, _ = exported
    con = duckdb.connect()
    con.execute(f"attach '{db}' as wh (read_only)")
    for table in MART_TABLES:
        columns = read_manifest(out)["tables"][table]["columns"]
        # The warehouse side with the export's two conversions (HUGEINT, JSON), then both
        # differences must be empty: the same rows, values and multiplicities.
        select = ", ".join(f'cast("{c["name"]}" as {c["type"]}) as "{c["name"]}"' for c in columns)
        names = ", ".join(f'"{c["name"]}"' for c in columns)
        lake = f"select {names} from read_parquet('{_glob(out, table)}', hive_partitioning = true)"
        house = f"select {select} from wh.{table}"
        for left, right in ((lake, house), (house, lake)):
            extra = con.execute(f"select count(*) from ({left} except all {right})").fetchall()
            assert extra == [(0,)], table


def test_pyarrow_dataset_reads_the_week_as_a_date(exported):
    db, out, _ = exported
    counts = _warehouse_counts(db, MART_TABLES)
    for table in MART_TABLES:
        data = ds.dataset(out / table, format="parquet").to_table()
        assert data.num_rows == counts[table], table
    incidents = ds.dataset(out / "incidents", format="parquet")
    assert str(incidents.schema.field("week_start").type) == "date32[day]"
    assert str(incidents.schema.field("created_at").type) == "timestamp[us, tz=UTC]"


def test_polars_reads_the_same_values(exported):
    db, out, _ = exported
    frame = polars.scan_parquet(_glob(out, "service_weekly"), hive_partitioning=True).collect()
    with duckdb.connect(str(db), read_only=True) as con:
        expected = con.execute(
            "select count(*), sum(total_incident_count), min(week_start), max(week_start),"
            " sum(mean_seconds_to_resolve) from service_weekly"
        ).fetchall()[0]
        first = con.execute(
            "select incident_id, title, seconds_to_resolve from incidents"
            " order by incident_id limit 1"
        ).fetchall()[0]
    assert frame.height == expected[0]
    assert frame["total_incident_count"].sum() == expected[1]
    assert frame["week_start"].dtype == polars.Date
    assert (frame["week_start"].min(), frame["week_start"].max()) == expected[2:4]
    assert frame["mean_seconds_to_resolve"].sum() == pytest.approx(expected[4])
    incidents = polars.scan_parquet(_glob(out, "incidents"), hive_partitioning=True)
    row = incidents.filter(polars.col("incident_id") == first[0]).collect()
    assert row["title"].to_list() == [first[1]]
    assert row["seconds_to_resolve"].to_list() == [first[2]]
    payloads = polars.read_parquet(_glob(out, "raw_incidents"))["payload"]
    assert payloads.dtype == polars.String  # JSON as text, not bytes
    assert json.loads(payloads[0])["id"]


def test_weekly_marts_are_hive_partitioned_by_week(exported):
    db, out, _ = exported
    manifest = read_manifest(out)
    with duckdb.connect(str(db), read_only=True) as con:
        for table in WEEKLY:
            weeks = {
                f"week_start={row[0]}"
                for row in con.execute(f"select distinct week_start from {table}").fetchall()
            }
            assert {p.name for p in (out / table).iterdir()} == weeks, table
            assert manifest["tables"][table]["partitioned_by"] == ["week_start"]
    assert manifest["tables"]["impact_windows"]["partitioned_by"] == []
    assert all(f.suffix == ".parquet" for f in (out / "alert_templates").iterdir())


def test_manifest_names_the_source_build_and_the_converted_types(exported):
    db, out, result = exported
    manifest = read_manifest(out)
    with duckdb.connect(str(db), read_only=True) as con:
        build_id = con.execute(
            "select build_id from _build_runs order by finished_at desc limit 1"
        ).fetchall()[0][0]
    assert manifest["source"]["build_id"] == build_id
    assert manifest["run_id"] == result.run_id and build_id in result.run_id
    assert manifest["written_at"].endswith("+00:00")
    assert manifest["compression"] == "zstd"
    columns = {c["name"]: c for c in manifest["tables"]["alert_templates"]["columns"]}
    assert columns["alert_count"] == {
        "name": "alert_count",
        "type": "BIGINT",
        "warehouse_type": "HUGEINT",
    }
    payload = manifest["tables"]["raw_incidents"]["columns"][1]
    assert payload == {"name": "payload", "type": "VARCHAR", "warehouse_type": "JSON"}
    # zstd in every file's column chunks (DuckDB reports the codec per column chunk).
    codecs = duckdb.sql(
        f"select distinct compression from parquet_metadata('{_glob(out, 'incidents')}')"
    ).fetchall()
    assert codecs == [("ZSTD",)]


def test_a_later_run_switches_the_link_and_keeps_one_previous_run(pipeline_db, tmp_path):
    out = tmp_path / "lake"
    runs = [export_parquet(pipeline_db, out) for _ in range(3)]
    assert len({r.run_id for r in runs}) == 3
    assert out.is_symlink() and out.resolve() == runs[-1].run_dir.resolve()
    kept = sorted(p.name for p in parquet_module.runs_dir(out).iterdir() if p.is_dir())
    assert kept == [runs[1].run_id, runs[2].run_id]


def test_a_failed_run_leaves_the_previous_export_whole(pipeline_db, tmp_path, monkeypatch):
    out = tmp_path / "lake"
    first = export_parquet(pipeline_db, out)
    real = parquet_module._write_table

    def fail_on_the_third(source, table, run_dir):
        if table.name == MART_TABLES[2]:
            raise OSError("disk full")
        return real(source, table, run_dir)

    monkeypatch.setattr(parquet_module, "_write_table", fail_on_the_third)
    with pytest.raises(OSError, match="disk full"):
        export_parquet(pipeline_db, out)
    assert out.resolve() == first.run_dir.resolve()
    assert read_manifest(out) == first.manifest
    monkeypatch.undo()
    again = export_parquet(pipeline_db, out)  # and the partial directory is cleared
    assert not list(parquet_module.runs_dir(out).glob(".*.partial"))
    assert read_manifest(out)["run_id"] == again.run_id


KILLED_RUN = """
import os, signal, sys
from etl.export import parquet
real = parquet._write_table
def write_then_die(source, table, run_dir):
    result = real(source, table, run_dir)
    if table.name == {victim!r}:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
parquet._write_table = write_then_die
parquet.export_parquet(sys.argv[1], sys.argv[2])
"""


def test_a_killed_run_leaves_the_previous_export_and_the_next_run_completes(pipeline_db, tmp_path):
    out = tmp_path / "lake"
    first = export_parquet(pipeline_db, out)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_RUN.format(victim="team_weekly"), str(pipeline_db), str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
    )
    assert child.returncode == -9, child.stderr
    assert len(list(parquet_module.runs_dir(out).glob(".*.partial"))) == 1
    assert out.resolve() == first.run_dir.resolve()
    assert read_manifest(out) == first.manifest
    assert (
        ds.dataset(out / "incidents", format="parquet").count_rows()
        == (first.manifest["tables"]["incidents"]["rows"])
    )
    second = export_parquet(pipeline_db, out)
    assert read_manifest(out)["run_id"] == second.run_id
    assert not list(parquet_module.runs_dir(out).glob(".*.partial"))


def test_the_export_does_not_block_a_writer_publishing_meanwhile(pipeline_db, tmp_path):
    db = writable_copy(pipeline_db, tmp_path / "wh")
    real = parquet_module._write_table
    published = []

    def publish_during_the_export(source, table, run_dir):
        if not published:
            with building(db) as con:  # the nightly writer's path: copy, write, rename
                con.execute("delete from team_weekly")
            published.append(True)
        return real(source, table, run_dir)

    parquet_module._write_table = publish_during_the_export
    try:
        result = export_parquet(db, tmp_path / "lake")
    finally:
        parquet_module._write_table = real
    # The export read the build it opened, whole; the writer published its own.
    assert {t.name: t.rows for t in result.tables}["team_weekly"] > 0
    assert _warehouse_counts(db, ["team_weekly"]) == {"team_weekly": 0}


def test_an_empty_weekly_mart_still_has_a_file_with_its_columns(pipeline_db, tmp_path):
    db = writable_copy(pipeline_db, tmp_path / "wh")
    with building(db) as con:
        con.execute("delete from responder_weekly")
    out = tmp_path / "lake"
    export_parquet(db, out)
    files = list((out / "responder_weekly").rglob("*.parquet"))
    assert len(files) == 1
    data = ds.dataset(out / "responder_weekly", format="parquet").to_table()
    assert data.num_rows == 0 and "health_score" in data.schema.names


def test_an_output_path_that_is_not_an_export_is_refused(pipeline_db, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not a pagerlens export"):
        export_parquet(pipeline_db, out)
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_symlink_that_is_not_an_export_is_left_alone(pipeline_db, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "lake"
    out.symlink_to(elsewhere)
    with pytest.raises(ExportError, match="not a pagerlens export"):
        export_parquet(pipeline_db, out)
    assert out.resolve() == elsewhere.resolve()


def test_cli_exports_and_reports_each_table(pipeline_db, tmp_path, capsys):
    out = tmp_path / "lake"
    assert main(["export", "--db", str(pipeline_db), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(MART_TABLES) + 1
    assert printed[0].startswith("incidents: ") and " rows, " in printed[0]
    assert printed[-1].startswith(f"exported {len(MART_TABLES)} tables, ")
    assert read_manifest(out)["tables"]["incidents"]["rows"] > 0


def test_cli_fails_in_one_line_on_an_unbuilt_warehouse(tmp_path, capsys):
    db = tmp_path / "raw.duckdb"
    with building(db):
        pass  # the raw schema only: no build has run
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "lake")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pagerlens: error: ") and "has no complete build" in err
    assert err.count("\n") == 1


def test_cli_refuses_catalog_options_for_parquet(pipeline_db, tmp_path):
    code = main(["export", "--db", str(pipeline_db), "--catalog-option", "type=glue"])
    assert code == 2


def test_the_week_column_type_survives_in_duckdb(exported):
    _, out, _ = exported
    kind = duckdb.sql(
        f"select any_value(typeof(week_start)), min(week_start) from read_parquet('{_glob(out, 'team_weekly')}')"
    ).fetchall()[0]
    assert kind[0] == "DATE" and isinstance(kind[1], date)
