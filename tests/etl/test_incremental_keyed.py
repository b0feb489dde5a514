"""Incremental models by key (etl/incremental_keyed.py), on a small model set of their own:
each step refreshes incrementally, checks which keys were recomputed, and compares every table
with a full rebuild of the same raw layer. The real models' proof over several syncs is
tests/etl/test_incremental_build.py."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from etl.load import Loader
from etl.transform import discover_models, refresh_models
from etl.warehouse import ensure_raw_schema
from tests.etl.models_support import default_config
from tests.etl.test_incremental_build import SCOPE, T0, _entry

MODELS = {
    "staging/stg_x.sql": """-- incremental: per raw_incidents row, keyed by incident_id
select
    id as incident_id,
    json_extract_string(payload, '$.status') as status,
    json_extract_string(payload, '$.service.id') as service_id
from raw_incidents""",
    "staging/stg_e.sql": """-- incremental: per raw_log_entries row, keyed by log_entry_id
select
    id as log_entry_id,
    json_extract_string(payload, '$.incident.id') as incident_id,
    json_extract_string(payload, '$.type') as entry_type,
    cast(json_extract_string(payload, '$.created_at') as timestamptz) as created_at
from raw_log_entries""",
    "staging/stg_svc.sql": """select id as service_id, json_extract_string(payload, '$.name') as name
from raw_services""",
    "staging/stg_period.sql": "select max(fetched_at) as data_end from raw_incidents",
    "marts/int_counts.sql": """-- incremental: per incident_id of stg_e
select incident_id, count(*) as entries
from stg_e
where incident_id is not null
group by incident_id""",
    "marts/int_notes.sql": """select incident_id, count(*) as notes
from stg_e
where entry_type = 'annotate_log_entry'
group by incident_id""",
    "marts/mart.sql": """-- incremental: per incident_id of stg_x, int_counts
-- incremental: every build redoes rows where status <> 'resolved', for stg_period
select
    x.incident_id,
    x.status,
    coalesce(c.entries, 0) as entries,
    s.name as service_name,
    case when x.status <> 'resolved' then p.data_end end as open_until
from stg_x as x
left join int_counts as c on c.incident_id = x.incident_id
left join stg_svc as s on s.service_id = x.service_id
cross join stg_period as p""",
    "marts/entry_status.sql": """-- incremental: per log_entry_id of stg_e
-- incremental: rows looked up in stg_x by incident_id
select e.log_entry_id, e.incident_id, x.status
from stg_e as e
left join stg_x as x on x.incident_id = e.incident_id""",
    # Runs of an incident's entries less than 10 minutes apart, as int_interruptions forms
    # interruptions out of a user's notifications: a sequence resumed at its last run.
    "marts/runs.sql": """-- incremental: per incident_id of stg_e, resumed at the last started_at before the first changed created_at
with sequenced as (
    select
        *,
        epoch(created_at - lag(created_at) over by_incident) as gap,
        row_number() over by_incident as position,
        count(*) over (partition by incident_id) as entries
    from stg_e
    where incident_id is not null
    window by_incident as (partition by incident_id order by created_at, log_entry_id)
),

starts as (
    select incident_id, log_entry_id, created_at as started_at, position, entries
    from sequenced
    where gap is null or gap > 600
)

select
    incident_id || ':' || log_entry_id as run_id,
    incident_id,
    started_at,
    coalesce(lead(position) over (partition by incident_id order by position), entries + 1)
        - position as entries
from starts""",
    "noise/noisy.sql": """-- incremental: per incident_id of mart, int_notes
select mart.incident_id, mart.entries, coalesce(int_notes.notes, 0) as notes
from mart
left join int_notes on int_notes.incident_id = mart.incident_id""",
}
KEYED = ("int_counts", "mart", "entry_status", "runs", "noisy")


def _incident(iid: str, status: str = "resolved", service: str = "S1") -> dict:
    return {
        "id": iid,
        "type": "incident",
        "status": status,
        "created_at": "2026-01-05T10:00:00Z",
        "service": {"id": service, "type": "service_reference"},
    }


def _service(sid: str, name: str) -> dict:
    return {"id": sid, "type": "service", "name": name}


class Account:
    """A warehouse of the model set above, refreshed step by step."""

    def __init__(self, models_dir: Path) -> None:
        for relative, sql in MODELS.items():
            path = models_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(sql + "\n")
        self.models = discover_models(models_dir)
        self.db = models_dir.parent / "account.duckdb"
        self.con = duckdb.connect(str(self.db))
        ensure_raw_schema(self.con)
        self.con.execute("set TimeZone = 'UTC'")
        self.params = default_config().sql_params()
        self.clock = T0

    def load(self, incidents=(), entries=(), services=()) -> None:
        self.clock += timedelta(minutes=10)
        loader = Loader(self.con, "run", SCOPE, clock=lambda: self.clock)
        for resource, rows in (
            ("incidents", incidents),
            ("log_entries", entries),
            ("services", services),
        ):
            loader.add(resource, list(rows))
        loader.flush()

    def refresh(self, skip: tuple[str, ...] = ()) -> dict[str, int | None]:
        """Refresh incrementally, check the result equals a full rebuild (of a copy), and
        return what each keyed model recomputed (None: built from scratch)."""
        models = [m for m in self.models if m.name not in skip]
        runs = refresh_models(self.con, models, self.params, full=False)
        self.con.execute("checkpoint")
        copy = self.db.with_name("full.duckdb")
        shutil.copyfile(self.db, copy)
        full = duckdb.connect(str(copy))
        try:
            full.execute("set TimeZone = 'UTC'")
            refresh_models(full, models, self.params, full=True)
            assert _tables(full, models) == _tables(self.con, models)
        finally:
            full.close()
        return {r.name: r.changed for r in runs if r.name in KEYED}


def _tables(con, models) -> dict[str, list]:
    return {
        m.name: sorted(map(repr, con.execute(f"select * from {m.name}").fetchall()))  # noqa: S608
        for m in models
    }


@pytest.fixture
def account(tmp_path) -> Account:
    account = Account(tmp_path / "models")
    incidents = [_incident(f"P{i}") for i in range(1, 7)]
    incidents[0] = _incident("P1", "triggered")
    entries = [_entry(f"L{i}{j}", f"P{i}") for i in range(1, 7) for j in (1, 2)]
    account.load(incidents, entries, [_service("S1", "checkout")])
    yield account
    account.con.close()


def test_keys_touched_by_a_change_are_recomputed_and_equal_a_full_build(account):
    first = account.refresh()
    assert set(first.values()) == {None}
    # Nothing new: only the rows redone at every build (the open incident P1).
    assert account.refresh() == {
        "int_counts": 0,
        "mart": 1,
        "entry_status": 0,
        "runs": 0,
        "noisy": 1,
    }
    # A new entry of a resolved incident, and a note (int_notes is rebuilt whole and compared
    # with its previous rows to find P3's change).
    account.load(entries=[_entry("L23", "P2"), _entry("L31", "P3", "annotate_log_entry")])
    assert account.refresh() == {
        "int_counts": 2,
        "mart": 3,
        "entry_status": 2,
        "runs": 2,
        "noisy": 3,
    }
    # A re-opened incident without new entries: its entries' status is looked up again.
    account.load(incidents=[_incident("P4", "acknowledged")])
    assert account.refresh() == {
        "int_counts": 0,
        "mart": 2,
        "entry_status": 2,
        "runs": 0,
        "noisy": 2,
    }
    # An entry gone from the raw layer.
    account.con.execute("delete from raw_log_entries where id = 'L51'")
    assert account.refresh() == {
        "int_counts": 1,
        "mart": 3,
        "entry_status": 1,
        "runs": 1,
        "noisy": 3,
    }


def test_an_input_read_whole_that_changed_rebuilds_the_model(account):
    account.refresh()
    account.refresh()
    account.load(services=[_service("S1", "checkout-v2")])
    changed = account.refresh()
    # The mart reads services whole: built anew, and so is what reads the mart.
    assert changed["mart"] is None and changed["noisy"] is None
    assert changed["int_counts"] == 0


def test_a_model_skipped_by_a_build_is_rebuilt_by_the_next(account):
    account.refresh()
    account.load(entries=[_entry("L24", "P2")])
    account.refresh(skip=("noisy",))
    account.load(entries=[_entry("L25", "P3")])
    changed = account.refresh()
    # noisy missed the first change's delta: it cannot trust the second one alone.
    assert changed["noisy"] is None and changed["mart"] == 2


def _at(entry: dict, minute: int) -> dict:
    return {**entry, "created_at": (T0 + timedelta(minutes=minute)).isoformat()}


def test_a_sequence_resumes_at_its_last_run_before_the_change(account):
    def entries() -> dict[str, int]:
        return dict(account.con.execute("select run_id, entries from runs").fetchall())

    # P2's entries: runs starting at 10:00 (L21, L22, L24), 11:00 (L25) and 12:00 (L26).
    timed = {"L21": 600, "L22": 605, "L24": 610, "L25": 660, "L26": 720}
    account.load(entries=[_at(_entry(lid, "P2"), minute) for lid, minute in timed.items()])
    account.refresh()
    # Marked runs: a refresh that redid one would overwrite its mark.
    account.con.execute("update runs set entries = -1 where starts_with(run_id, 'P2:')")
    # 12:03 joins the 12:00 run: only that run is redone, the earlier ones are kept.
    account.load(entries=[_at(_entry("L27", "P2"), 723)])
    runs = refresh_models(account.con, account.models, account.params, full=False)
    assert next(r.changed for r in runs if r.name == "runs") == 1
    assert {k: v for k, v in entries().items() if k.startswith("P2:")} == {
        "P2:L21": -1,
        "P2:L25": -1,
        "P2:L26": 2,
    }
    refresh_models(account.con, account.models, account.params, full=True)  # marks gone
    assert entries()["P2:L21"] == 3 and entries()["P2:L26"] == 2
    # 10:30 starts a run of its own (20 minutes after 10:10), and with L25 gone from the raw
    # layer the 11:00 run ends: redone from the 10:00 run on.
    account.load(entries=[_at(_entry("L28", "P2"), 630)])
    account.con.execute("delete from raw_log_entries where id = 'L25'")
    assert account.refresh()["runs"] == 1
    assert {k: v for k, v in entries().items() if k.startswith("P2:")} == {
        "P2:L21": 3,
        "P2:L28": 1,
        "P2:L26": 2,
    }


def test_a_null_key_is_refused(tmp_path):
    models = tmp_path / "models"
    (models / "marts").mkdir(parents=True)
    (models / "marts" / "int_bad.sql").write_text(
        "-- incremental: per incident_id of stg_e\n"
        "select nullif(incident_id, 'P1') as incident_id from stg_e\n"
    )
    account = Account(models)
    try:
        account.load([_incident("P1")], [_entry("L1", "P1")])
        with pytest.raises(ValueError, match="per incident_id, but 1 rows have no incident_id"):
            refresh_models(account.con, account.models, account.params, full=False)
    finally:
        account.con.close()
