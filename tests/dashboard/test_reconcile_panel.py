"""The Data page's reconciliation section (dashboard/reconcile_panel.py) under AppTest."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard import fmt
from etl.queries.reconcile_results import DIFFERENCES, SUMMARY, results_dir
from etl.reconcile import ReconcileResult, write_outputs
from etl.reconcile.incidents import DIFF_COLUMNS
from tests.dashboard.conftest import APP, TIMEOUT
from tests.dashboard.conftest import frame_with as _frame
from tests.dashboard.conftest import page_texts as _texts
from tests.warehouse import writable_copy


def _page(db, monkeypatch) -> AppTest:
    monkeypatch.setenv("PAGERLENS_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/sync_data.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_a_reconciliation_the_page_says_how_to_run_one(pipeline_db, monkeypatch):
    at = _page(pipeline_db, monkeypatch)
    assert "Reconciliation with PagerDuty Analytics" in _texts(at)
    assert "pagerlens reconcile --since" in _texts(at)


def test_the_last_reconciliation_shows_reasons_and_the_unexplained(
    pipeline_db, tmp_path, monkeypatch
):
    db = writable_copy(pipeline_db, tmp_path)
    rows = [
        [
            "incident",
            "P1",
            "S1",
            "2026-02-16",
            "seconds_to_first_ack",
            120,
            60,
            "integration_ack",
            "",
        ],
        ["incident", "P2", "S1", "2026-02-16", "total_notifications", 5, 3, None, "*bold*"],
        [
            "service_week",
            "S1|2026-02-16",
            "S1",
            "2026-02-16",
            "total_notifications",
            9,
            7,
            "email_notifications+analytics_lag",
            "",
        ],
    ]
    result = ReconcileResult(
        datetime(2026, 2, 16, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
        pd.DataFrame(rows, columns=DIFF_COLUMNS),
        refused={"/analytics/metrics/responders/all": "HTTP 402: no Analytics in the plan"},
        compared={"incidents": 2, "service-weeks": 1},
    )
    write_outputs(result, results_dir(db), (DIFFERENCES, SUMMARY))
    at = _page(db, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Differences"], metrics["Explained"], metrics["Unexplained"]) == ("3", "3", "1")
    reasons = _frame(at, "reason", "differences", "meaning")
    assert dict(zip(reasons["reason"], reasons["differences"], strict=True)) == {
        "analytics_lag": 1,
        "email_notifications": 1,
        "integration_ack": 1,
        "(unexplained)": 1,
    }
    (error,) = at.error
    assert error.value == "1 difference(s) have no named reason."
    (warning,) = at.warning
    endpoint, why = "/analytics/metrics/responders/all", "HTTP 402: no Analytics in the plan"
    assert warning.value == f"Could not compare with POST {fmt.md_escape(endpoint)}: " + (
        fmt.md_escape(why)
    )
