"""The dashboard tests read the canonical warehouse (``pipeline_db``, tests/conftest.py) and the
small hand-made one with hostile text (``hostile_db``); ``empty_db`` is a warehouse before its
first build. Expected values come from plain queries of the marts (:func:`mart`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from etl.warehouse import building

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TIMEOUT = 30
# Every page, in the app's order (dashboard/app.py PAGES).
PAGES = (
    "views/overview.py",
    "views/now.py",
    "views/services_teams.py",
    "views/responders.py",
    "views/noise.py",
    "views/alert_groups.py",
    "views/impact.py",
    "views/reports.py",
    "views/sync_data.py",
)
# Every page whose figures follow the filters: the reports page ignores them (it reports a
# whole week of the account; test_reports_page_builds_the_pdf_and_csvs), and so does the Now
# page (what is open now, whatever the filters say; tests/live/test_now_page.py).
UNFILTERED = ("views/reports.py", "views/now.py")
FILTERED_PAGES = tuple(page for page in PAGES if page not in UNFILTERED)


def mart(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a plain query of the warehouse (read-only)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def busiest_team(db: Path) -> tuple[str, set[str], set[str]]:
    """The team with the most incidents, its services' ids and names (from the incidents mart)."""
    ((team_id,),) = mart(
        db, "select team_id from incidents group by team_id order by count(*) desc limit 1"
    )
    services = mart(
        db, "select distinct service_id, service_name from incidents where team_id = ?", [team_id]
    )
    return team_id, {s for s, _ in services}, {n for _, n in services}


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory) -> Path:
    """A warehouse with only the raw schema: what exists before the first successful build."""
    path = tmp_path_factory.mktemp("empty") / "pagerlens.duckdb"
    with building(path):
        pass
    return path


@pytest.fixture
def app(monkeypatch):
    """An AppTest factory for a warehouse path (passed the way `pagerlens dashboard` does)."""

    def make(db: Path, query: dict | None = None) -> AppTest:
        monkeypatch.setenv("PAGERLENS_DB", str(db))
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        if query:
            at.query_params = dict(query)
        return at

    return make


def page_texts(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in (
            "markdown",
            "caption",
            "text",
            "subheader",
            "title",
            "info",
            "warning",
            "success",
            "error",
            "code",
        )
        for e in getattr(at, kind)
    ]
    parts += [m.label + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def frame_with(at: AppTest, *columns: str):
    """The first table showing all ``columns`` (AppTest does not expose dataframe keys)."""
    for element in at.dataframe:
        frame = element.value
        if all(c in frame.columns for c in columns):
            return frame
    raise AssertionError(f"no table with columns {columns}")


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
