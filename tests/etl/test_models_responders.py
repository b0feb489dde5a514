"""Interruptions, their time-of-day buckets, and `responder_weekly` (load, on-call, health).

Expected values are computed by hand from docs/metrics.md; the local times in the comments
are the reason for each expected bucket.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.etl.models_support import (
    RawAccount,
    at,
    base_account,
    build_account,
    fetch,
    records,
)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# case id: (user time zone or None, UTC instant of the notification, expected bucket)
BUCKET_CASES = {
    "utc-0759": ("UTC", "2026-03-02T07:59:59Z", "sleep"),
    "utc-0800": ("UTC", "2026-03-02T08:00:00Z", "business"),
    "utc-1759": ("UTC", "2026-03-02T17:59:59Z", "business"),
    "utc-1800": ("UTC", "2026-03-02T18:00:00Z", "off_hour"),
    "utc-2159": ("UTC", "2026-03-02T21:59:59Z", "off_hour"),
    "utc-2200": ("UTC", "2026-03-02T22:00:00Z", "sleep"),
    "utc-sat-0800": ("UTC", "2026-03-07T08:00:00Z", "off_hour"),
    "utc-sat-1000": ("UTC", "2026-03-07T10:00:00Z", "off_hour"),
    "utc-sat-2300": ("UTC", "2026-03-07T23:00:00Z", "sleep"),  # weekend night: sleep wins
    "utc-sun-0700": ("UTC", "2026-03-08T07:00:00Z", "sleep"),
    # Kolkata is UTC+05:30 all year.
    "kol-0759": ("Asia/Kolkata", "2026-03-02T02:29:59Z", "sleep"),
    "kol-0800": ("Asia/Kolkata", "2026-03-02T02:30:00Z", "business"),
    "kol-1800": ("Asia/Kolkata", "2026-03-02T12:30:00Z", "off_hour"),
    "kol-2200": ("Asia/Kolkata", "2026-03-02T16:30:00Z", "sleep"),
    # Adelaide is UTC+10:30 in March (daylight time): Monday 21:30 UTC is Tuesday 08:00.
    "adl-tue-0759": ("Australia/Adelaide", "2026-03-02T21:29:59Z", "sleep"),
    "adl-tue-0800": ("Australia/Adelaide", "2026-03-02T21:30:00Z", "business"),
    "adl-sun-0830": ("Australia/Adelaide", "2026-03-07T22:00:00Z", "off_hour"),  # UTC Sat
    "adl-mon-0830": ("Australia/Adelaide", "2026-03-08T22:00:00Z", "business"),  # UTC Sun
    # New York: UTC-5 until Sunday 2026-03-08 02:00, then UTC-4; back to UTC-5 on 2026-11-01.
    "ny-fri-0730-est": ("America/New_York", "2026-03-06T12:30:00Z", "sleep"),
    "ny-mon-0830-edt": ("America/New_York", "2026-03-09T12:30:00Z", "business"),
    "ny-mon-0730-edt": ("America/New_York", "2026-03-09T11:30:00Z", "sleep"),
    "ny-fri-0830-edt": ("America/New_York", "2026-10-30T12:30:00Z", "business"),
    "ny-mon-0730-est": ("America/New_York", "2026-11-02T12:30:00Z", "sleep"),
    # No time zone, or one DuckDB does not know: the account zone (default UTC) applies.
    "none-0730": (None, "2026-03-02T07:30:00Z", "sleep"),
    "bogus-0900": ("Mars/Olympus_Mons", "2026-03-02T09:00:00Z", "business"),
}


def _bucket_account() -> RawAccount:
    account = base_account()
    for n, (case_id, (zone, when, _)) in enumerate(BUCKET_CASES.items()):
        user_id = f"PU{n:05d}"
        account.user(user_id, zone, "PTEAM01", name=case_id)
        incident_id = f"PB{n:05d}"
        account.incident(incident_id, ts(when), status="triggered")
        account.notify(incident_id, ts(when), user_id)
    return account


@pytest.fixture(scope="module")
def buckets() -> dict[str, str]:
    return buckets_by_case(build_account(_bucket_account()))


def buckets_by_case(con) -> dict[str, str]:
    """Each interruption's bucket by its case id (the user's name)."""
    rows = con.execute(
        "select users.user_name, i.bucket from int_interruptions as i"
        " join stg_users as users using (user_id)"
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize(
    ("case_id", "expected"),
    [(case_id, expected) for case_id, (_, _, expected) in BUCKET_CASES.items()],
    ids=list(BUCKET_CASES),
)
def test_bucket(buckets: dict[str, str], case_id: str, expected: str) -> None:
    assert buckets[case_id] == expected


def test_account_time_zone_applies_to_users_without_one() -> None:
    # 07:30 UTC is 16:30 in Tokyo (UTC+9): business hours for the zone-less user only.
    con = build_account(_bucket_account(), account_time_zone="Asia/Tokyo")
    rows = buckets_by_case(con)
    assert rows["none-0730"] == "business"
    assert rows["utc-0759"] == "sleep"  # users with their own zone are unaffected
    assert rows["kol-0800"] == "business"


def test_bucket_edges_are_configuration() -> None:
    con = build_account(
        _bucket_account(),
        business_start=datetime(2000, 1, 1, 9).time(),
        sleep_end=datetime(2000, 1, 1, 7).time(),
    )
    rows = buckets_by_case(con)
    # 07:59:59 is no longer sleep (ends 07:00) nor business (starts 09:00).
    assert rows["utc-0759"] == "off_hour"
    assert rows["utc-0800"] == "off_hour"
    assert rows["utc-2200"] == "sleep"


# (user, notification offsets in seconds, type) -> expected interruptions, with the default
# 60 s merge window and with a 30 s one.
MERGE_CASES = [
    ("PM59", [0, 59], "push_notification", 1, 2),
    ("PM61", [0, 61], "sms_notification", 2, 2),
    ("PM60", [0, 60], "phone_notification", 1, 2),
    ("PMCHAIN", [0, 50, 100], "push_notification", 1, 3),
    ("PMLONG", [0, 55, 110, 165, 220], "push_notification", 1, 5),
    ("PMEMAIL", [0, 10, 20], "email_notification", 0, 0),
]


def _merge_account() -> RawAccount:
    account = base_account()
    for user_id, offsets, kind, _, _ in MERGE_CASES:
        account.user(user_id, "UTC", "PTEAM01")
        incident_id = "PI" + user_id[2:]
        account.incident(incident_id, at(0), status="triggered")
        for offset in offsets:
            account.notify(incident_id, at(offset), user_id, kind)
    return account


@pytest.mark.parametrize("merge_seconds", [60, 30])
def test_interruption_merging(merge_seconds: int) -> None:
    con = build_account(_merge_account(), interruption_merge_seconds=merge_seconds)
    counts = dict(
        con.execute("select user_id, total_interruptions from responder_weekly").fetchall()
    )
    for user_id, _, _, with_60, with_30 in MERGE_CASES:
        expected = with_60 if merge_seconds == 60 else with_30
        assert counts.get(user_id, 0) == expected, user_id


def test_email_does_not_interrupt_or_join_an_interruption() -> None:
    account = base_account(PUSER01="UTC")
    account.incident("PEMAIL1", at(0), status="triggered")
    account.notify("PEMAIL1", at(0), "PUSER01", "push_notification")
    account.notify("PEMAIL1", at(40), "PUSER01", "email_notification")
    account.notify("PEMAIL1", at(90), "PUSER01", "sms_notification")  # 90 s after the push
    con = build_account(account)
    rows = fetch(
        con,
        "select epoch(started_at - ?::timestamptz) as offset_s, notification_count"
        " from int_interruptions order by started_at",
        [at(0)],
    )
    assert rows == [
        dict(offset_s=0.0, notification_count=1),
        dict(offset_s=90.0, notification_count=1),
    ]
    weekly = fetch(con, "select total_interruptions, total_notifications from responder_weekly")
    assert weekly == [dict(total_interruptions=2, total_notifications=3)]


def test_interruption_belongs_to_the_first_notifications_incident_and_week() -> None:
    account = base_account(PUSER01="UTC")
    account.service("PSVC002", "PTEAM02", "ledger")
    account.team("PTEAM02", "Ledger")
    sunday_night = ts("2026-03-08T23:59:30Z")
    account.incident("PFIRST1", sunday_night, service_id="PSVC002", status="triggered")
    account.incident("PSECOND", at(45, sunday_night), status="triggered")
    account.notify("PFIRST1", sunday_night, "PUSER01", "phone_notification")
    account.notify("PSECOND", at(45, sunday_night), "PUSER01", "push_notification")  # Monday
    con = build_account(account)
    assert fetch(con, "select service_id, team_id, week_start, bucket from int_interruptions") == [
        dict(service_id="PSVC002", team_id="PTEAM02", week_start=date(2026, 3, 2), bucket="sleep")
    ]
    service_rows = fetch(
        con,
        "select service_id, week_start, total_interruptions, total_notifications,"
        " total_sleep_hour_interruptions from service_weekly order by service_id",
    )
    # Notifications in service_weekly are summed per incident (incident's week); the one
    # interruption goes to the first notification's service and week.
    assert service_rows == records(
        "service_id week_start total_interruptions total_notifications"
        " total_sleep_hour_interruptions",
        [("PSVC001", date(2026, 3, 9), 0, 1, 0), ("PSVC002", date(2026, 3, 2), 1, 1, 1)],
    )
    # A responder's notifications count in their own weeks.
    assert fetch(
        con,
        "select week_start, total_notifications, total_interruptions from responder_weekly"
        " order by week_start",
    ) == [
        dict(week_start=date(2026, 3, 2), total_notifications=1, total_interruptions=1),
        dict(week_start=date(2026, 3, 9), total_notifications=1, total_interruptions=0),
    ]


def test_acknowledgements_and_engaged_time() -> None:
    account = base_account(PUSER01="UTC", PUSER02="UTC")
    account.incident("PENG001", at(0))
    account.ack("PENG001", at(100), "PUSER01")
    account.ack("PENG001", at(400), "PUSER01")  # the user's first acknowledgement counts
    account.ack("PENG001", at(700), "PUSER02")
    account.resolve("PENG001", at(1000))
    account.incident("PENG002", at(0), status="acknowledged")  # open: no engaged time yet
    account.ack("PENG002", at(50), "PUSER01")
    account.incident("PENG003", at(0))  # resolved before this user acknowledged
    account.resolve("PENG003", at(300))
    account.ack("PENG003", at(500), "PUSER02")
    con = build_account(account)
    rows = fetch(
        con,
        "select user_id, total_incidents_acknowledged, total_engaged_seconds"
        " from responder_weekly order by user_id",
    )
    assert rows == [
        dict(user_id="PUSER01", total_incidents_acknowledged=2, total_engaged_seconds=900.0),
        dict(user_id="PUSER02", total_incidents_acknowledged=2, total_engaged_seconds=300.0),
    ]


def test_on_call_is_clipped_to_weeks_and_to_the_synced_period() -> None:
    account = base_account(PUSERA="UTC", PUSERB="UTC", PUSERC="UTC", PUSERD="UTC")
    since, until = ts("2026-03-02T00:00:00Z"), ts("2026-03-12T00:00:00Z")
    # A: level 1 from before the period to Wednesday noon, listed twice (two policies).
    account.oncall("PUSERA", ts("2026-02-25T00:00:00Z"), ts("2026-03-04T12:00:00Z"))
    account.oncall(
        "PUSERA", ts("2026-02-25T00:00:00Z"), ts("2026-03-04T12:00:00Z"), policy_id="PEP0002"
    )
    # B: level 2 from Friday to after the period's end.
    account.oncall("PUSERB", ts("2026-03-06T00:00:00Z"), ts("2026-03-20T00:00:00Z"), level=2)
    # C: a permanent on-call (no start, no end).
    account.oncall("PUSERC", None, None, level=1)
    # D: level 1 for a day, level 2 overlapping it by twelve hours.
    account.oncall("PUSERD", ts("2026-03-02T00:00:00Z"), ts("2026-03-03T00:00:00Z"), level=1)
    account.oncall("PUSERD", ts("2026-03-02T12:00:00Z"), ts("2026-03-04T00:00:00Z"), level=2)
    con = build_account(account, synced=(since, until))
    rows = fetch(
        con,
        "select user_id, week_start, total_seconds_on_call, total_seconds_on_call_level_1,"
        " total_seconds_on_call_level_2_plus from responder_weekly order by user_id, week_start",
    )
    day = 86400.0
    # (user, week, on call in total, at level 1, at level 2 or deeper), in days
    expected = [
        ("PUSERA", date(2026, 3, 2), 2.5, 2.5, 0.0),
        ("PUSERB", date(2026, 3, 2), 3, 0.0, 3),
        ("PUSERB", date(2026, 3, 9), 3, 0.0, 3),
        ("PUSERC", date(2026, 3, 2), 7, 7, 0.0),
        ("PUSERC", date(2026, 3, 9), 3, 3, 0.0),
        ("PUSERD", date(2026, 3, 2), 2, 1, 1.5),
    ]
    assert rows == records(
        "user_id week_start total_seconds_on_call total_seconds_on_call_level_1"
        " total_seconds_on_call_level_2_plus",
        [
            (user, week, total * day, one * day, deeper * day)
            for user, week, total, one, deeper in expected
        ],
    )


# The health tests' sync run: one week.
HEALTH_WEEK = (ts("2026-03-02T00:00:00Z"), ts("2026-03-09T00:00:00Z"))


def _health_account() -> RawAccount:
    account = base_account(PUSERH="UTC", PUSERT="UTC", PUSERU="UTC", PUSERK="UTC")
    account.team("PTEAM02", "Other")
    account.user("PUSERO", "UTC", "PTEAM02")  # other team: not in PTEAM01's median
    for user_id in ("PUSERH", "PUSERT", "PUSERU", "PUSERK", "PUSERO"):
        account.oncall(user_id, ts("2026-03-02T00:00:00Z"), ts("2026-03-09T00:00:00Z"))
    # H: woken Monday 23:00, Wednesday 01:00 (Tuesday night), Wednesday 23:00: three
    # consecutive disrupted nights, three sleep interruptions.
    for n, when in enumerate(
        ["2026-03-02T23:00:00Z", "2026-03-04T01:00:00Z", "2026-03-04T23:00:00Z"]
    ):
        account.incident(f"PH{n}", ts(when), status="triggered")
        account.notify(f"PH{n}", ts(when), "PUSERH", "phone_notification")
    # K: two weekday-evening interruptions (off-hours), nights untouched.
    for n, when in enumerate(["2026-03-03T19:00:00Z", "2026-03-05T19:00:00Z"]):
        account.incident(f"PK{n}", ts(when), status="triggered")
        account.notify(f"PK{n}", ts(when), "PUSERK", "push_notification")
    # O: four sleep interruptions on non-consecutive nights, alone in its team.
    for n, when in enumerate(
        [
            "2026-03-02T23:00:00Z",
            "2026-03-04T23:00:00Z",
            "2026-03-06T23:00:00Z",
            "2026-03-08T23:00:00Z",
        ]
    ):
        account.incident(f"PO{n}", ts(when), status="triggered")
        account.notify(f"PO{n}", ts(when), "PUSERO", "sms_notification")
    return account


def test_health_score_components_and_overload() -> None:
    # Three sleep interruptions in four weeks count as overload here (default: 7, the "bad"
    # band), to exercise the rule relative to the team.
    con = build_account(_health_account(), synced=HEALTH_WEEK, overload_min_sleep_interruptions=3)
    rows = {
        r["user_id"]: r
        for r in fetch(
            con,
            "select user_id, total_sleep_hour_interruptions, total_off_hour_interruptions,"
            " disrupted_nights, max_consecutive_disrupted_nights, on_call_weeks_28d,"
            " weighted_off_hours_load_28d, sleep_interruptions_per_on_call_week,"
            " team_median_sleep_per_on_call_week, load_score, consecutive_nights_penalty,"
            " health_score, overloaded, overload_reason from responder_weekly",
        )
    }
    h = rows["PUSERH"]
    # weighted load 0 + 2 x 3 = 6, between good (2) and bad (7): 100 - 40 * 4/5 = 68;
    # three consecutive nights: 10 points for each night after the first.
    assert h["weighted_off_hours_load_28d"] == 6.0
    assert h["load_score"] == pytest.approx(68.0)
    assert h["consecutive_nights_penalty"] == 20.0
    assert h["health_score"] == 48.0
    assert (h["disrupted_nights"], h["max_consecutive_disrupted_nights"]) == (3, 3)
    assert h["on_call_weeks_28d"] == 1.0
    # Team PTEAM01 on call: H 3, T 0, U 0, K 0 sleep interruptions per on-call week.
    assert h["team_median_sleep_per_on_call_week"] == 0.0
    assert h["overloaded"] is True
    assert h["overload_reason"] == (
        "3.0 sleep interruptions per on-call week (team median 0.0); 3 consecutive disrupted nights"
    )
    k = rows["PUSERK"]
    assert (k["weighted_off_hours_load_28d"], k["health_score"], k["overloaded"]) == (
        2.0,
        100.0,
        False,
    )
    assert k["overload_reason"] is None
    t = rows["PUSERT"]
    assert (t["health_score"], t["overloaded"]) == (100.0, False)
    o = rows["PUSERO"]
    # 2 x 4 = 8: past bad (7) toward burnout (19): 60 - 40 * 1/12; no consecutive nights
    # (Mon, Wed, Fri and Sun nights are apart); alone in its team, so its own median.
    assert o["health_score"] == round(60 - 40 / 12, 1)
    assert o["max_consecutive_disrupted_nights"] == 1
    assert o["overloaded"] is False


def test_health_thresholds_are_configuration() -> None:
    con = build_account(
        _health_account(),
        synced=HEALTH_WEEK,
        health_sleep_weight=1.0,
        health_consecutive_night_penalty=0.0,
        overload_consecutive_nights=4,
        overload_min_sleep_interruptions=3,
    )
    h = fetch(
        con, "select health_score, overload_reason from responder_weekly where user_id = 'PUSERH'"
    )[0]
    # weighted 3: 100 - 40 * 1/5 = 92, no penalty; overloaded only by the sleep rate.
    assert h == dict(
        health_score=92.0,
        overload_reason="3.0 sleep interruptions per on-call week (team median 0.0)",
    )


def test_default_overload_needs_the_bad_band_of_sleep_interruptions() -> None:
    con = build_account(_health_account(), synced=HEALTH_WEEK)
    reasons = dict(
        con.execute(
            "select user_id, overload_reason from responder_weekly where overloaded"
        ).fetchall()
    )
    # H's three sleep interruptions are above the team's median but under 7: only the three
    # consecutive nights flag H.
    assert reasons == {"PUSERH": "3 consecutive disrupted nights"}
