"""Noise marts, unit cases: the interruptions replay, flapping and the recommendation rules
(stop paging, maintenance windows) on hand-made frames."""

from __future__ import annotations

import json

import pandas as pd

from etl.config import Config
from etl.noise import (
    NoiseSettings,
    Replay,
    build_recommendations,
    find_groups,
    flag_flapping,
)
from tests.etl.noise_support import (
    T0,
    _incident_frame,
)


def _notes(rows: list[tuple[str | None, float, str, bool, bool]]) -> pd.DataFrame:
    """Replay input rows: (user, seconds after T0, incident, interrupts, local time in sleep
    hours); the bucket comes from int_notifications in a build, so it is given here."""
    return pd.DataFrame(
        {
            "log_entry_id": [f"L{i:03d}" for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "created_at": [T0 + pd.Timedelta(seconds=r[1]) for r in rows],
            "incident_id": [r[2] for r in rows],
            "interrupts": [r[3] for r in rows],
            "in_interruptions": [r[3] and r[0] is not None for r in rows],
            "is_sleep": [r[4] for r in rows],
        }
    )


def _replay(notes: pd.DataFrame) -> Replay:
    ids = sorted(set(notes["incident_id"]))
    incidents = pd.DataFrame({"incident_id": ids, "created_at": T0})
    return Replay(incidents, notes, Config(), weeks=4)


def test_replay_merges_notifications_and_recounts_without_an_incident() -> None:
    rows = [
        # U1: 02:00 page for I1, then I2 50 s and 100 s later (still 02:0x): one interruption.
        ("U1", 0, "I1", True, True),
        ("U1", 50, "I2", True, True),
        ("U1", 100, "I2", True, True),
        # U2: two pages 61 s apart: two interruptions (the merge window is 60 s).
        ("U2", 0, "I3", True, True),
        ("U2", 61, "I4", True, True),
        # An e-mail interrupts nobody; a page to no known user counts as a page only.
        ("U2", 30, "I4", False, True),
        (None, 10, "I4", True, True),
    ]
    replay = _replay(_notes(rows))
    assert replay.sleep_before_by_user.sum() == 3
    nothing = replay.run(set())
    assert nothing["sleep_interruptions_after"] == nothing["sleep_interruptions_before"] == 3
    assert nothing["pages_saved"] == 0
    assert nothing["notifications_before"] == nothing["notifications_after"] == 7

    # Without I1, U1's interruption starts at I2's first page: still one.
    without_i1 = replay.run({"I1"})
    assert without_i1["sleep_interruptions_after"] == 3
    assert without_i1["pages_saved"] == 1 and without_i1["incidents_after"] == 3
    # Without I3, U2 keeps one interruption; its e-mail and the unknown user's page go with I4.
    without_i3 = replay.run({"I3"})
    assert without_i3["sleep_interruptions_after"] == 2
    without_i4 = replay.run({"I4"})
    assert without_i4["sleep_interruptions_after"] == 2
    assert without_i4["pages_saved"] == 2 and without_i4["notifications_after"] == 4
    # Demoted (low urgency): the incident stays, its pages go, its e-mail stays.
    demoted = replay.run(set(), {"I4"})
    assert demoted["incidents_after"] == 4 and demoted["notifications_after"] == 5
    assert demoted["sleep_interruptions_after"] == 2


def test_replay_bucket_is_the_first_kept_notification() -> None:
    # 06:59:30 (sleep) then 07:00:20 (not sleep) merge into one sleep interruption; without
    # the first incident the interruption starts at 07:00:20 and is not a sleep one.
    replay = _replay(_notes([("U1", 0, "I1", True, True), ("U1", 50, "I2", True, False)]))
    assert replay.run(set())["sleep_interruptions_after"] == 1
    assert replay.run({"I1"})["sleep_interruptions_after"] == 0


def test_flapping_needs_transient_repeats_within_the_window() -> None:
    rows = [
        {"incident_id": "A1", "t": 0, "noise_reason": "transient"},
        {"incident_id": "A2", "t": 1800, "noise_reason": "transient"},
        {"incident_id": "A3", "t": 90000, "noise_reason": "transient"},  # alone: a day later
        {"incident_id": "A4", "t": 90600, "noise_reason": None},  # acknowledged, not noise
    ]
    frame = _incident_frame(rows).assign(template_id="t1", service_id="S1")
    # flap_alpha = 1: episodes alone, without the chance test (tests/etl/test_noise_flapping.py)
    flags = flag_flapping(frame, Config(), NoiseSettings(flap_alpha=1.0))
    assert flags.tolist() == [True, True, False, False]


def test_stop_paging_for_alerts_nobody_acts_on() -> None:
    rows = []
    for n in range(8):
        rows.append(
            {
                "incident_id": f"Q{n}",
                "t": n * 86400 + 3600 * (n % 5),
                "noise_reason": "auto_resolved_unacked",
                "first_ack_at": pd.NaT,
                "is_major": False,
                "seconds_to_resolve": 4000.0,
                "auto_resolved": True,
            }
        )
    frame = _incident_frame(rows).assign(
        template_id="t9",
        template="Queue <*> lag above <*>",
        service_id="S9",
        service_name="queue",
        team_id="T1",
        team_name="Data",
        alert_count=1,
        total_notifications=3,
        sleep_interruptions=1,
        is_flapping=False,
        html_url="https://acme.pagerduty.com/incidents/Q0",
        group_id=None,
        occurrence_id=None,
    )
    frame["first_ack_at"] = pd.to_datetime(frame["first_ack_at"], utc=True)
    notes = pd.DataFrame(
        {
            "log_entry_id": [f"N{i}" for i in range(8)],
            "incident_id": [f"Q{i}" for i in range(8)],
            "user_id": "U1",
            "created_at": frame["created_at"] + pd.Timedelta(seconds=5),
            "interrupts": True,
            "in_interruptions": True,
            "is_sleep": [n % 2 == 0 for n in range(8)],
        }
    )
    config = Config()
    empty = find_groups(frame.iloc[:0])
    recs = build_recommendations(frame, notes, empty, config, NoiseSettings())
    assert recs["kind"].tolist() == ["stop_paging"]
    row = recs.iloc[0]
    assert row["team_id"] == "T1" and row["incidents_after"] == row["incidents_before"]
    # Low urgency: the phone calls of the replayed weeks are gone.
    assert row["pages_saved"] == row["notifications_before"] - row["notifications_after"] > 0
    artifacts = json.loads(row["config_artifacts"])
    orchestration = artifacts[0]["body"]["orchestration_path"]["sets"][0]["rules"][0]
    assert orchestration["actions"] == {"severity": "info"}
    assert orchestration["conditions"][0]["expression"] == "event.summary matches part 'lag above'"
    assert artifacts[1]["body"]["service"]["incident_urgency_rule"]["urgency"] == "severity_based"
    assert row["config_snippet"].startswith("# PagerDuty API PUT /event_orchestrations/services/S9")


def test_maintenance_weeks_are_counted_across_a_new_year() -> None:
    """Tuesday 03:xx alerts in ISO weeks 2 and 3 of 2025 and of 2026: four distinct weeks
    (counting week numbers alone saw two and missed the window)."""
    times = ["2025-01-07T03:05Z", "2025-01-14T03:05Z", "2026-01-06T03:10Z", "2026-01-13T03:10Z"]
    times.append("2026-01-06T03:20Z")
    frame = pd.DataFrame(
        {
            "incident_id": [f"M{n}" for n in range(len(times))],
            "created_at": pd.to_datetime(times, utc=True),
            "noise_reason": "auto_resolved_unacked",
            "first_ack_at": pd.to_datetime([None] * len(times), utc=True),
            "is_major": False,
            "seconds_to_resolve": 1800.0,
            "auto_resolved": True,
            "template_id": "tm",
            "template": "Backup job <*> failed",
            "service_id": "S1",
            "service_name": "backups",
            "team_id": "T1",
            "team_name": "Storage",
            "alert_count": 1,
            "total_notifications": 1,
            "sleep_interruptions": 0,
            "is_flapping": False,
            "html_url": "https://acme.pagerduty.com/incidents/M0",
            "group_id": None,
            "occurrence_id": None,
        }
    )
    recs = build_recommendations(
        frame, None, find_groups(frame.iloc[:0]), Config(), NoiseSettings()
    )
    assert recs["kind"].tolist() == ["maintenance_window"]
    evidence = json.loads(recs.iloc[0]["evidence"])
    assert evidence["window"] == "weekly Tue 03:00-03:30 UTC"
    assert evidence["incidents_in_window"] == 5
    # First the alert type's own weekly rule (Event Orchestration, PCL `now in`), then, for
    # the whole service instead, one POST per weekly occurrence after the last incident
    # (2026-01-13), on the wall clock.
    rule, *windows = json.loads(recs.iloc[0]["config_artifacts"])
    (suppress,) = rule["body"]["orchestration_path"]["sets"][0]["rules"]
    assert suppress["actions"] == {"suppress": True}
    assert [c["expression"] for c in suppress["conditions"]] == [
        "event.summary matches part 'Backup job' and now in Tue 03:00:00 to 03:30:00 UTC"
    ]
    bodies = [a["body"]["maintenance_window"] for a in windows]
    assert [(b["start_time"], b["end_time"]) for b in bodies] == [
        (f"2026-01-{day}T03:00:00+00:00", f"2026-01-{day}T03:30:00+00:00") for day in (20, 27)
    ] + [
        ("2026-02-03T03:00:00+00:00", "2026-02-03T03:30:00+00:00"),
        ("2026-02-10T03:00:00+00:00", "2026-02-10T03:30:00+00:00"),
    ]
