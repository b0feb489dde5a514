"""Execute notebooks/weekly_review.ipynb against a small built warehouse so it never rots."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from etl.transform import build
from tests.etl.models_support import base_account, default_config

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "weekly_review.ipynb"
MONDAY = datetime.fromisoformat("2026-03-02T00:00:00Z")


def _warehouse(path: Path) -> None:
    """Two weeks: the second one noisier, slower and with one responder woken night after night."""
    account = base_account(PUSER02="Asia/Kolkata", PUSER03=None)
    account.user("PUSER01", "Europe/Berlin", "PTEAM01", name="Ada Lovelace")
    account.service("PSVC002", "PTEAM01", "ledger-db")
    n = 0
    for week, (count, ttr) in enumerate([(3, 900), (6, 2400)]):
        for k in range(count):
            n += 1
            created = MONDAY + timedelta(days=7 * week + k, hours=10)
            incident_id = f"PINC{n:03d}"
            account.incident(
                incident_id,
                created,
                service_id="PSVC001",
                priority="P1" if (week, k) == (1, 0) else "P4",
                title=f"High latency on checkout-{k}",
            )
            account.notify(incident_id, created + timedelta(seconds=5), "PUSER02")
            account.ack(incident_id, created + timedelta(seconds=120), "PUSER02")
            account.resolve(incident_id, created + timedelta(seconds=ttr), agent_id="PUSER02")
        # flapping noise on the database
        for k in range(2 + 3 * week):
            n += 1
            created = MONDAY + timedelta(days=7 * week + k, hours=3)
            account.incident(
                f"PINC{n:03d}",
                created,
                service_id="PSVC002",
                title=f"Disk latency flapping on db-{k}",
            )
            account.auto_resolve(f"PINC{n:03d}", created + timedelta(seconds=120))
    # Ada is woken four nights in a row in the second week (Berlin is UTC+1 in March).
    for night in range(4):
        n += 1
        created = MONDAY + timedelta(days=7 + night, hours=1)
        account.incident(f"PINC{n:03d}", created, service_id="PSVC002", title="Replica lag")
        account.notify(f"PINC{n:03d}", created, "PUSER01", "phone_notification")
        account.ack(f"PINC{n:03d}", created + timedelta(minutes=4), "PUSER01")
        account.resolve(f"PINC{n:03d}", created + timedelta(minutes=40), agent_id="PUSER01")
    for user_id in ("PUSER01", "PUSER02", "PUSER03"):
        account.oncall(user_id, MONDAY, MONDAY + timedelta(days=14))
    with duckdb.connect(str(path)) as con:
        account.write(con)
        account.sync_run(con, MONDAY, MONDAY + timedelta(days=15))
    build(path, default_config())


@pytest.mark.slow
def test_weekly_review_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "review.duckdb"
    _warehouse(db)
    monkeypatch.setenv("PAGERLENS_DB", str(db))
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
    assert "reviewing the week of 2026-03-09 (compared with 2026-03-02)" in text
    assert "1 overloaded responder(s) this week" in text
    assert "- Ada Lovelace: " in text and "4 consecutive disrupted nights" in text
    assert "ledger-db" in text  # the noisy service
    assert "1 account-wide impact window(s) touched the week" in text
