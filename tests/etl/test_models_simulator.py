"""The marts on the simulated account: they agree with the ground truth the simulator planted
and with an independent recomputation, in plain Python/pandas, of every incident's durations
from the raw JSON.

The simulated account is written into the raw tables the way the loader stores it (log
entries with the incident reduced to a reference, on-calls keyed by their md5), with one
successful sync over the account's period.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from etl.transform import build_marts
from etl.warehouse import ensure_raw_schema
from tests.conftest import SIM_END as END
from tests.etl.models_support import default_config

DAYS = 28
REF_KEYS = ("id", "type", "summary", "html_url")


def oncall_key(o: dict) -> str:
    parts = [
        o["schedule"]["id"] if o.get("schedule") else "",
        o["escalation_policy"]["id"],
        o["user"]["id"],
        str(o["escalation_level"]),
        o.get("start") or "",
        o.get("end") or "",
    ]
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def write_account(con: duckdb.DuckDBPyConnection, account) -> None:
    ensure_raw_schema(con)
    fetched = account.end
    tables: dict[str, list] = {
        "teams": [(t["id"], t) for t in account.teams],
        "users": [(u["id"], u) for u in account.users],
        "services": [(s["id"], s) for s in account.services],
        "escalation_policies": [(p["id"], p) for p in account.escalation_policies],
        "schedules": [(s["id"], s) for s in account.schedules],
        "priorities": [(p["id"], p) for p in account.priorities],
        "oncalls": [(oncall_key(o), o) for o in account.oncalls],
        "incidents": [(i.incident["id"], i.incident) for i in account.incidents],
        "log_entries": [
            (e["id"], dict(e, incident={k: e["incident"].get(k) for k in REF_KEYS}))
            for i in account.incidents
            for e in i.log_entries
        ],
        "alerts": [(a["id"], a) for i in account.incidents for a in i.alerts],
    }
    for resource, rows in tables.items():
        frame = pd.DataFrame(
            {
                "id": [key for key, _ in rows],
                "payload": [json.dumps(p) for _, p in rows],
                "fetched_at": fetched,
            }
        ).drop_duplicates("id", keep="last")
        # A bulk insert from the frame: row-by-row executemany is far slower.
        con.register("raw_frame", frame)
        con.execute(
            f"insert into raw_{resource} select id, payload::json, fetched_at from raw_frame"
        )
        con.unregister("raw_frame")
    con.execute(
        "insert into _sync_runs (run_id, started_at, finished_at, status, since, until, mode)"
        " values ('sim', ?, ?, 'ok', ?, ?, 'full')",
        [account.end, account.end, account.start, account.end],
    )


@pytest.fixture(scope="module")
def sim():
    from simulator.account import generate_account

    account = generate_account(seed=7, days=DAYS, end=END)
    con = duckdb.connect()
    write_account(con, account)
    build_marts(con, default_config(), noise=False)
    return account, con


def _is_human(entry: dict) -> bool:
    agent = entry.get("agent")
    if agent:
        return agent.get("type") == "user_reference"
    return (entry.get("channel") or {}).get("type") not in (
        None,
        "auto",
        "api",
        "nagios",
        "timeout",
    )


def recompute(con: duckdb.DuckDBPyConnection, transient_seconds: int = 300) -> pd.DataFrame:
    """Per-incident durations from the raw JSON, written independently of the SQL."""
    incidents = {
        k: json.loads(v) for k, v in con.execute("select id, payload from raw_incidents").fetchall()
    }
    entries: dict[str, list[dict]] = {}
    for (payload,) in con.execute("select payload from raw_log_entries").fetchall():
        entry = json.loads(payload)
        entries.setdefault(entry["incident"]["id"], []).append(entry)
    rows = []
    for incident_id, incident in incidents.items():
        created = pd.Timestamp(incident["created_at"])
        mine = sorted(
            entries.get(incident_id, []), key=lambda e: (pd.Timestamp(e["created_at"]), e["id"])
        )
        acks = [
            pd.Timestamp(e["created_at"])
            for e in mine
            if e["type"] in ("acknowledge_log_entry", "acknowledgement_log_entry") and _is_human(e)
        ]
        resolves = [e for e in mine if e["type"] == "resolve_log_entry"]
        first_ack = min(acks) if acks else None
        resolved_at, auto = None, False
        if incident["status"] == "resolved":
            if resolves:
                resolved_at = pd.Timestamp(resolves[-1]["created_at"])
                auto = not _is_human(resolves[-1])
            elif incident.get("resolved_at"):
                resolved_at = pd.Timestamp(incident["resolved_at"])
        tta = (first_ack - created).total_seconds() if first_ack is not None else None
        ttr = (resolved_at - created).total_seconds() if resolved_at is not None else None
        noise = None
        if auto and first_ack is None:
            noise = "transient" if ttr <= transient_seconds else "auto_resolved_unacked"
        rows.append(
            dict(
                incident_id=incident_id,
                seconds_to_first_ack=tta if tta is not None and tta >= 0 else None,
                seconds_to_resolve=ttr if ttr is not None and ttr >= 0 else None,
                auto_resolved=auto,
                noise_reason=noise,
                data_issue=(tta is not None and tta < 0) or (ttr is not None and ttr < 0),
                escalation_count=sum(e["type"] == "escalate_log_entry" for e in mine),
                total_notifications=sum(e["type"] == "notify_log_entry" for e in mine),
            )
        )
    return pd.DataFrame(rows).set_index("incident_id").sort_index()


def test_marts_agree_with_an_independent_recomputation(sim) -> None:
    account, con = sim
    expected = recompute(con)
    columns = list(expected.columns)
    actual = (
        con.execute(f"select incident_id, {', '.join(columns)} from incidents")
        .df()
        .set_index("incident_id")
        .sort_index()
    )
    assert len(actual) == len(account.incidents) == len(expected)
    for column in columns:
        left = actual[column].astype(object).where(actual[column].notna(), None).tolist()
        right = expected[column].astype(object).where(expected[column].notna(), None).tolist()
        mismatched = [
            (i, a, b) for i, a, b in zip(expected.index, left, right, strict=True) if a != b
        ]
        assert not mismatched, f"{column}: {mismatched[:5]}"


def test_flapping_and_planted_noise_are_noise(sim) -> None:
    account, con = sim
    truth = account.ground_truth
    noise = dict(con.execute("select incident_id, is_noise from incidents").fetchall())
    flapping = [i for f in truth["flapping"] for i in f["incident_ids"]]
    assert flapping
    assert all(noise[i] for i in flapping)
    assert all(noise[i] for i in truth["noise_incident_ids"])


def test_clock_skew_is_flagged_and_open_incidents_stay_open(sim) -> None:
    account, con = sim
    truth = account.ground_truth
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select incident_id, data_issue, resolved_at, seconds_to_resolve from incidents"
        ).fetchall()
    }
    assert truth["clock_skew_incident_ids"]
    for incident_id in truth["clock_skew_incident_ids"]:
        data_issue, _, seconds = rows[incident_id]
        assert data_issue and seconds is None
    for incident_id in truth["open_incident_ids_at_end"]:
        assert rows[incident_id][1] is None


def test_impact_windows_cover_the_planted_major_outages(sim) -> None:
    account, con = sim
    windows = con.execute(
        "select window_start, window_end, incident_ids, has_open_incident from impact_windows"
        " where scope = 'account'"
    ).fetchall()
    majors = dict(con.execute("select incident_id, is_major from incidents").fetchall())
    outages = account.ground_truth["major_outages"]
    assert outages
    for outage in outages:
        ids = set(outage["incident_ids"])
        assert all(majors[i] for i in ids), outage["outage_id"]
        start = datetime.fromisoformat(outage["start"])
        covering = [w for w in windows if ids & set(w[2])]
        assert covering, outage["outage_id"]
        # The outage's incidents sit in windows that begin by its start (its first incident
        # opens at the outage's start) and, while it is open, run to the end of the data.
        assert min(w[0] for w in covering) <= start
        if outage["end"] is None:
            assert any(w[3] and w[1] == account.end for w in covering)
        else:
            end = datetime.fromisoformat(outage["end"])
            # Incidents are resolved when the fix lands, between 85% and 100% of the outage.
            assert max(w[1] for w in covering) >= start + 0.85 * (end - start)


@pytest.mark.slow
def test_build_on_a_generated_warehouse(tmp_path) -> None:
    """The scale writer's warehouse builds with every check passing (the `build` path)."""
    from etl.transform import build
    from simulator.generate import generate_to_warehouse

    db = tmp_path / "generated.duckdb"
    counts = generate_to_warehouse(db, 7, 14, 1.0, end=END)
    summary = build(db, default_config())
    assert all(check.passed for check in summary.checks)
    assert summary.rows("incidents") == counts["incidents"] > 0
    with duckdb.connect(str(db), read_only=True) as con:
        (data_end,) = con.execute("select data_end from major_free_streaks").fetchall()[0]
    assert data_end == END
