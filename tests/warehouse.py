"""The canonical test warehouse: a simulated account run through the real pipeline.

:func:`build_pipeline_warehouse` generates the simulator's account straight into the raw tables
and builds every model with ``etl.transform.build``: the marts the report, the dashboard and the
notebook read are the product's own, never copies of its SQL. The simulator is imported here
only, so a move of the package changes one line. The session fixture ``pipeline_db``
(tests/conftest.py) builds it once per test session.

Situations the simulator cannot produce (hostile alert text, a quiet week) are small hand-made
raw layers (:class:`tests.etl.models_support.RawAccount`) run through the same build
(:func:`build_raw_warehouse`). A test that changes a warehouse works on
:func:`writable_copy`.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from simulator.generate import generate_to_warehouse

PIPELINE_SEED = 7
# Four full reporting weeks (Monday to Monday) before the session's end date: a report week,
# the week before it and a trend; scale 1 gives every team, recommendations and an alert group,
# and builds in a few seconds.
PIPELINE_DAYS = 28
PIPELINE_SCALE = 1.0


def build_pipeline_warehouse(
    path: Path,
    *,
    end: datetime,
    seed: int = PIPELINE_SEED,
    days: int = PIPELINE_DAYS,
    scale: float = PIPELINE_SCALE,
) -> Path:
    """Generate a simulated account into ``path`` and build its marts (published atomically)."""
    from etl.config import Config
    from etl.transform import build

    generate_to_warehouse(path, seed=seed, days=days, scale=scale, end=end)
    build(path, Config())
    return path


def build_raw_warehouse(path: Path, account, *, since: datetime, until: datetime) -> Path:
    """Write a hand-made raw layer (a ``RawAccount``) and one successful sync over
    [since, until) to ``path``, then build every model with the real build."""
    from etl.config import DEFAULTS_PATH, load_config
    from etl.transform import build

    with duckdb.connect(str(path)) as con:
        account.write(con)
        account.sync_run(con, since, until)
    build(path, load_config(DEFAULTS_PATH))
    return path


def writable_copy(db: Path, folder: Path) -> Path:
    """A copy of a published (read-only) warehouse that a test may change."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "pagerlens.duckdb"
    shutil.copyfile(db, copy)
    copy.chmod(0o644)
    return copy


# -- the hand-made situation: hostile alert text and a quiet week --------------------------

HOSTILE_TITLE = '<script>alert("pwned")</script> Disk <b>full</b> on db & co [x](javascript:a)'
HOSTILE_URL = "javascript:alert(1)"
HOSTILE_TEAM = "Platform <ops>"
# The raw layer below covers [HOSTILE_SINCE, HOSTILE_UNTIL): incidents in the first week only,
# so the last complete week (2026-W11) has none.
HOSTILE_SINCE = datetime.fromisoformat("2026-03-02T00:00:00+00:00")
HOSTILE_UNTIL = datetime.fromisoformat("2026-03-18T12:00:00+00:00")
HOSTILE_WEEK = "2026-W10"
QUIET_WEEK = "2026-W11"


def hostile_account():
    """A small raw layer whose incident titles, a team name and an incident URL are hostile
    markup (what an alert source may send), all in week 2026-W10."""
    from datetime import timedelta

    from tests.etl.models_support import RawAccount

    account = RawAccount()
    account.team("PTEAM01", "Payments")
    account.team("PTEAM02", HOSTILE_TEAM)
    account.service("PSVC001", "PTEAM01", "checkout-api")
    account.service("PSVC002", "PTEAM02", "k8s-cluster")
    account.priorities()
    account.user("PUSER01", "Europe/Berlin", "PTEAM01", name="Ada Lovelace")
    account.user("PUSER02", "UTC", "PTEAM02", name="Linus T")
    for day in range(5):
        created = HOSTILE_SINCE + timedelta(days=day, hours=2 + day)
        for k, (service_id, user_id) in enumerate((("PSVC001", "PUSER01"), ("PSVC002", "PUSER02"))):
            incident_id = f"PINC{day}{k}"
            major = day == 2 and k == 1
            account.incident(
                incident_id,
                created,
                service_id=service_id,
                priority="P1" if major else "P4",
                title=HOSTILE_TITLE if k == 1 else f"High latency on checkout-api pod {day}",
            )
            account.notify(incident_id, created + timedelta(seconds=5), user_id)
            account.ack(incident_id, created + timedelta(minutes=3), user_id)
            account.resolve(incident_id, created + timedelta(hours=1 + k), agent_id=user_id)
            account.oncall(user_id, HOSTILE_SINCE, HOSTILE_UNTIL)
    account.rows["incidents"][0]["html_url"] = HOSTILE_URL
    return account
