"""`pagerlens demo --no-dashboard`: the main job, end to end, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl.queries import MART_TABLES
from tests.conftest import SIM_END


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    db = tmp_path / "demo.duckdb"
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "etl.cli",
            "demo",
            "--no-dashboard",
            "--days",
            "28",
            "--end",
            SIM_END.date().isoformat(),
            "--db",
            str(db),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sync ok" in result.stdout
    assert db.exists()
    assert not Path(str(db) + ".building").exists()

    con = duckdb.connect(str(db), read_only=True)
    try:
        for mart in MART_TABLES:
            count = con.execute(f"select count(*) from {mart}").fetchall()[0][0]
            assert count > 0, mart
        runs = con.execute("select status, mode from _sync_runs").fetchall()
        assert ("ok", "full") in runs
    finally:
        con.close()

    pdfs = list(out.glob("pagerlens-*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].stat().st_size > 10_000
    assert list(out.glob("pagerlens-*-*.csv"))
    assert (out / "recommendations" / "recommendations.csv").exists()
    assert list((out / "recommendations").glob("*.md"))
