"""Execute notebooks/weekly_review.ipynb against the canonical test warehouse so it never rots;
what it prints is compared with plain queries of the marts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_review.ipynb"
WEEK = "2026-02-23"  # the last complete week before SIM_END (tests/conftest.py)


def _mart(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow
def test_weekly_review_notebook_runs(pipeline_db, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PAGERLENS_DB", str(pipeline_db))
    monkeypatch.delenv("PAGERLENS_WEEK", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    text = "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert f"reviewing the week of {WEEK} (compared with 2026-02-16)" in text
    overloaded = _mart(
        pipeline_db,
        "select user_name, overload_reason from responder_weekly "
        "where week_start = ? and overloaded",
        [WEEK],
    )
    assert f"{len(overloaded)} overloaded responder(s) this week" in text
    for name, reason in overloaded:
        assert f"- {name}: {reason}" in text
    ((noisiest,),) = _mart(
        pipeline_db,
        "select service_name from service_weekly where week_start = ? "
        "order by total_noise_incidents desc, service_name limit 1",
        [WEEK],
    )
    assert noisiest in text
    ((windows,),) = _mart(
        pipeline_db,
        "select count(*) from impact_windows where scope = 'account' "
        "and window_end > cast(? as date) and window_start < cast(? as date) + 7",
        [WEEK, WEEK],
    )
    assert f"{windows} account-wide impact window(s) touched the week" in text
    ((stale,),) = _mart(pipeline_db, "select count(*) from stale_open_majors")
    assert f"{stale} stale open major incident(s)" in text
