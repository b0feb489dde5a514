"""The build runner and the data checks: model discovery and order, bound parameters,
_build_runs bookkeeping, checks that fail on broken marts, and a failed check keeping the
previously published warehouse.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from etl.checks import DataCheckError, run_checks
from etl.queries import Reader
from etl.transform import MODELS_DIR, build, build_marts, discover_models
from tests.etl.models_support import at, base_account, build_account, default_config, fetch

PUBLIC_MARTS = ("incidents", "service_weekly", "team_weekly", "responder_weekly", "impact_windows")


def _small_account():
    account = base_account(PUSER01="Europe/Berlin", PUSER02="UTC")
    account.incident("PINC001", at(0), priority="P1")
    account.notify("PINC001", at(5), "PUSER01", "sms_notification")
    account.ack("PINC001", at(100))
    account.resolve("PINC001", at(1000))
    account.incident("PINC002", at(60))
    account.auto_resolve("PINC002", at(120))
    account.oncall("PUSER01", at(-3600), at(86400))
    return account


def test_every_model_file_follows_the_house_shape() -> None:
    files = sorted(MODELS_DIR.glob("staging/*.sql")) + sorted(MODELS_DIR.glob("marts/*.sql"))
    assert len(files) > 20
    for path in files:
        sql = path.read_text()
        code = re.sub(r"--[^\n]*", "", sql).strip()
        assert code.endswith("select * from final"), path.name
        assert "{" not in code or "format(" in code, f"{path.name}: no Python formatting in SQL"
        assert path.stem.startswith("stg_") == (path.parent.name == "staging"), path.name


def test_models_run_after_their_dependencies() -> None:
    models = discover_models()
    position = {m.name: i for i, m in enumerate(models)}
    for model in models:
        for dependency in model.depends_on:
            assert position[dependency] < position[model.name], (model.name, dependency)
    assert set(PUBLIC_MARTS) <= set(position)
    assert "incidents" in discover_models_named("responder_weekly").depends_on
    # Parameters are discovered from the SQL and bound by name.
    assert "transient_seconds" in discover_models_named("incidents").params


def discover_models_named(name: str):
    return next(m for m in discover_models() if m.name == name)


def _write_models(models_dir: Path, files: dict[str, str]) -> None:
    """Model files (``layer/name.sql``: SQL) in a models folder of a test's own."""
    for path, sql in files.items():
        (models_dir / path).parent.mkdir(exist_ok=True)
        (models_dir / path).write_text(sql)


def test_noise_layer_runs_last_and_no_layer_reads_a_later_one(tmp_path: Path) -> None:
    models = discover_models()
    layers = [m.layer for m in models]
    assert layers == sorted(layers, key=("staging", "marts", "noise").index)
    assert {"incidents", "int_incident_sleep_interruptions"} <= discover_models_named(
        "noise_incidents"
    ).depends_on
    # A mart that reads a noise-layer model is refused when the models are found.
    _write_models(
        tmp_path,
        {
            "staging/stg_x.sql": "select 1 as x",
            "marts/marts_x.sql": "select * from noise_input",
            "noise/noise_input.sql": "select 1 as x",
        },
    )
    with pytest.raises(ValueError, match="marts model marts_x reads later layers"):
        discover_models(tmp_path)


def test_a_cte_named_like_another_model_is_refused(tmp_path: Path) -> None:
    # Inputs are found by name: the CTE would read as a dependency on the model it names.
    _write_models(
        tmp_path,
        {
            "staging/stg_x.sql": "select 1 as incident_id",
            "marts/marts_y.sql": "with stg_x as (select 2 as incident_id)\nselect * from stg_x",
            # A model may name a CTE after itself (incidents.sql does).
            "marts/marts_z.sql": "with marts_z as (select 3 as x), t as (select 1) select * from t",
        },
    )
    with pytest.raises(
        ValueError, match=r"model marts_y: a CTE named like the model\(s\) \['stg_x'\]"
    ):
        discover_models(tmp_path)
    (tmp_path / "marts/marts_y.sql").write_text("with t as (select 1) select * from stg_x, t")
    assert {m.name for m in discover_models(tmp_path)} == {"stg_x", "marts_y", "marts_z"}


def test_build_summary_and_build_runs_table() -> None:
    con = duckdb.connect()
    _small_account().write(con)
    summary = build_marts(con, default_config())
    assert summary.rows("incidents") == 2
    assert all(check.passed for check in summary.checks)
    assert len(summary.checks) > 30
    recorded = fetch(
        con,
        "select step, rows from _build_runs where build_id = ? and layer = 'marts'",
        [summary.build_id],
    )
    by_step = {r["step"]: r["rows"] for r in recorded}
    for name in PUBLIC_MARTS:
        assert by_step[name] == con.execute(f"select count(*) from {name}").fetchall()[0][0]
    assert "incidents=2" in summary.log_line()


def test_session_time_zone_does_not_change_the_build() -> None:
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/Los_Angeles'")
    _small_account().write(con)
    build_marts(con, default_config())
    assert con.execute("select current_setting('TimeZone')").fetchall() == [
        ("America/Los_Angeles",)
    ]
    reference = build_account(_small_account())
    for table in PUBLIC_MARTS:
        query = (
            f"select * exclude (incident_ids) from {table}"
            if table == "impact_windows"
            else f"select * from {table}"
        )
        mine = con.execute(f"{query} order by all").fetchall()
        theirs = reference.execute(f"{query} order by all").fetchall()
        assert mine == theirs, table


@pytest.mark.parametrize(
    ("corruption", "failed_check"),
    [
        ("insert into incidents select * from incidents limit 1", "unique:incidents(incident_id)"),
        (
            "update incidents set seconds_to_resolve = -1 where incident_id = 'PINC001'",
            "non_negative:incidents.seconds_to_resolve",
        ),
        (
            "update incidents set noise_reason = 'flapping' where incident_id = 'PINC002'",
            "accepted_values:incidents.noise_reason",
        ),
        ("delete from incidents where incident_id = 'PINC002'", "incidents_accounted_for"),
        (
            "update responder_weekly set total_sleep_hour_interruptions = 5",
            "buckets_add_up:responder_weekly",
        ),
        (
            "insert into impact_windows select * replace (window_start + interval 1 minute"
            " as window_start) from impact_windows",
            "impact_windows_disjoint",
        ),
        (
            "update int_interruptions set bucket = 'night'",
            "accepted_values:int_interruptions.bucket",
        ),
        ("update responder_weekly set health_score = 101", "health_score_range"),
    ],
)
def test_checks_catch_broken_marts(corruption: str, failed_check: str) -> None:
    con = build_account(_small_account())
    assert all(c.passed for c in run_checks(con))
    con.execute(corruption)
    failed = [c.name for c in run_checks(con) if not c.passed]
    assert failed_check in failed


def test_a_rejected_incident_is_accounted_for() -> None:
    con = build_account(_small_account())
    con.execute("delete from incidents where incident_id = 'PINC002'")
    con.execute(
        "insert into _rejects values ('incidents', 'PINC002', 'bad created_at', '{}', 'r1', now())"
    )
    assert all(c.passed for c in run_checks(con))


def test_failed_check_raises_and_keeps_the_published_warehouse(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    good = _small_account()
    with duckdb.connect(str(db)) as con:
        good.write(con)
    first = build(db, default_config())
    assert Reader(db).is_built()
    # A raw incident without created_at (a record the loader should have rejected) breaks
    # not-null checks: the build fails and the published file keeps the first build.
    bad = _small_account()
    bad.incident("PBROKEN", at(0))
    bad.rows["incidents"][-1]["created_at"] = None
    with duckdb.connect(str(db)) as con:
        bad.write(con)  # raw layer written directly, outside `building`, for the test
    before = db.read_bytes()
    with pytest.raises(DataCheckError) as raised:
        build(db, default_config())
    message = str(raised.value)
    assert "not_null:incidents.created_at" in message
    assert "not_null:incidents.week_start" in message
    assert db.read_bytes() == before
    assert not db.with_name(db.name + ".building").exists()
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute("select distinct build_id from _build_runs").fetchall()
    assert runs == [(first.build_id,)]


def test_build_publishes_all_marts(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        _small_account().write(con)
    build(db, default_config())
    with duckdb.connect(str(db), read_only=True) as con:
        for table in PUBLIC_MARTS + (
            "incident_weekly_by_dimension",
            "major_free_streaks",
            "stale_open_majors",
        ):
            assert con.execute(f"select count(*) from {table}").fetchall()[0][0] >= 0
        assert con.execute("select count(*) from incidents").fetchall() == [(2,)]


@pytest.mark.parametrize("limit", ["3GB", "512MB", None])
def test_noise_step_runs_under_its_own_memory_limit(monkeypatch, limit: str | None) -> None:
    """DuckDB's limit drops to a share of the build's, at most NOISE_MEMORY_LIMIT, for the
    noise marts, and the build's own limit is back for the checks and after."""
    import etl.noise
    import etl.transform as transform

    seen: list[float] = []

    def fake_noise(con, config, **_):
        seen.append(
            transform._bytes(con.execute("select current_setting('memory_limit')").fetchall()[0][0])
        )
        return {}

    monkeypatch.setattr(etl.noise, "build_noise_marts", fake_noise)
    con = duckdb.connect()
    _small_account().write(con)
    before = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    build_marts(con, default_config(), memory_limit=limit)
    after = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    reference = duckdb.connect()
    if limit:
        reference.execute(f"set memory_limit = '{limit}'")
    assert after == reference.execute("select current_setting('memory_limit')").fetchall()[0][0]
    ceiling = min(
        transform._bytes(transform.NOISE_MEMORY_LIMIT),
        transform._bytes(limit or before) * transform.NOISE_MEMORY_SHARE,
    )
    assert seen and abs(seen[0] - ceiling) / ceiling < 0.05


def test_memory_sizes_parse_in_duckdb_units() -> None:
    from etl.transform import _bytes

    assert _bytes("3GB") == 3e9
    assert _bytes("18.8 GiB") == pytest.approx(18.8 * 2**30)
    assert _bytes("1.5 TiB") == pytest.approx(1.5 * 2**40)
    with pytest.raises(ValueError):
        _bytes("lots")
