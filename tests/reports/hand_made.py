"""A hand-made week for the SEV section and the custom-field filter (tests/reports,
tests/dashboard): its figures are worked out by hand in the docstrings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.etl.models_support import INTEGRATION_AGENT, RawAccount
from tests.etl.test_models_custom_fields import change
from tests.warehouse import HOSTILE_TITLE

WEEK = "2026-W10"
SINCE = datetime(2026, 3, 2, tzinfo=UTC)  # Monday of 2026-W10
UNTIL = datetime(2026, 3, 9, 12, tzinfo=UTC)  # the data ends Monday noon of the next week
DAY = timedelta(days=1)


def sev_account() -> RawAccount:
    """Week 2026-W10, by hand:

    P1 (SEV1): #1 acked by Ada after 60 s, resolved by her after 1,800 s (hostile title; Linus
    was only notified); #2 acked by Grace after 120 s, then by Ada, resolved by Grace after
    3,600 s; #3 acked by an integration after 10 s (not a person) and by Ada after 600 s,
    resolved automatically after 7,200 s. MTTA 60/120/600 s: p50 120 s, p90 120 + 0.8 x 480 =
    504 s. MTTR 1,800/3,600/7,200 s: p50 3,600 s, p90 3,600 + 0.8 x 3,600 = 6,480 s. Longest #3.
    Responded: Ada on 3, Grace on 1.
    P2 (SEV2): #4 acked by Grace after 30 s, still open: longest, open 4 days to the data's end.
    #5 is P3 and #6 has no priority: neither is in the section.
    """
    account = RawAccount()
    account.team("PTEAM01", "Payments")
    account.service("PSVC001", "PTEAM01", "checkout-api")
    account.priorities()
    for user_id, name in (("PUSER01", "Ada Lovelace"), ("PUSER02", "Grace Hopper")):
        account.user(user_id, "UTC", "PTEAM01", name=name)
    account.user("PUSER03", "UTC", "PTEAM01", name="Linus T")
    start = SINCE + timedelta(hours=12)

    def resolved(incident_id, created, seconds, priority, title=None):
        account.incident(
            incident_id,
            created,
            priority=priority,
            resolved_at=created + timedelta(seconds=seconds),
            title=title,
        )

    resolved("PINC001", start, 1800, "P1", HOSTILE_TITLE)
    account.notify("PINC001", start + timedelta(seconds=5), "PUSER03")
    account.ack("PINC001", start + timedelta(seconds=60), "PUSER01")
    account.resolve("PINC001", start + timedelta(seconds=1800), agent_id="PUSER01")
    second = start + DAY
    resolved("PINC002", second, 3600, "P1")
    account.ack("PINC002", second + timedelta(seconds=120), "PUSER02")
    account.ack("PINC002", second + timedelta(seconds=300), "PUSER01")
    account.resolve("PINC002", second + timedelta(seconds=3600), agent_id="PUSER02")
    third = start + 2 * DAY
    resolved("PINC003", third, 7200, "P1")
    account.ack("PINC003", third + timedelta(seconds=10), agent=INTEGRATION_AGENT)
    account.ack("PINC003", third + timedelta(seconds=600), "PUSER01")
    account.auto_resolve("PINC003", third + timedelta(seconds=7200))
    fourth = start + 3 * DAY
    account.incident("PINC004", fourth, priority="P2", status="acknowledged")
    account.ack("PINC004", fourth + timedelta(seconds=30), "PUSER02")
    resolved("PINC005", second, 900, "P3")
    account.ack("PINC005", second + timedelta(seconds=45), "PUSER03")
    account.resolve("PINC005", second + timedelta(seconds=900), agent_id="PUSER03")
    resolved("PINC006", third, 300, None)
    return account


def with_custom_fields(account: RawAccount) -> RawAccount:
    """The week's root causes: #1 and #2 deploy, #3 config, #5 config corrected to capacity;
    #4 and #6 unset. customer_impact: #1 outage (a hostile value), #2 degraded.

    By root cause: deploy 2 incidents (MTTR 1,800 and 3,600 s: p50 2,700 s), config 1 (#3,
    7,200 s), capacity 1 (#5, 900 s), not set 2 (#4 open, #6 300 s)."""
    day = 86400
    change(account, "PINC001", 900, [("root_cause", "deploy", None)])
    change(account, "PINC001", 950, [("customer_impact", "<b>outage</b>", None)])
    change(account, "PINC002", day + 900, [("root_cause", "deploy", None)], user_id="PUSER02")
    change(account, "PINC002", day + 950, [("customer_impact", "degraded", None)])
    change(account, "PINC003", 2 * day + 900, [("root_cause", "config", None)])
    change(account, "PINC005", day + 300, [("root_cause", "config", None)])
    change(account, "PINC005", day + 600, [("root_cause", "capacity", "config")])
    return account
