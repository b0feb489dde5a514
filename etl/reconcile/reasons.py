"""The named reasons a difference with PagerDuty's Analytics can have.

Each reason is defined once, in docs/metrics.md ("Reconciliation with PagerDuty Analytics");
the one-line texts here are what the CSV and the dashboard show next to the name.
"""

from __future__ import annotations

INTEGRATION_ACK = "integration_ack"
ANALYTICS_LAG = "analytics_lag"
EMAIL_NOTIFICATIONS = "email_notifications"
INTERRUPTION_DEFINITION = "interruption_definition"
INVALID_TIMING = "invalid_timing"
WEEK_TIME_ZONE = "week_time_zone"
MERGED_INCIDENT = "merged_incident"

REASONS: dict[str, str] = {
    INTEGRATION_ACK: "PagerDuty counts an acknowledgement by an integration; pagerlens counts "
    "people only (docs/metrics.md seconds_to_first_ack)",
    ANALYTICS_LAG: "PagerDuty's Analytics lags the live account by up to 24 h: the incident "
    "changed (or was created) after PagerDuty last processed it",
    EMAIL_NOTIFICATIONS: "PagerDuty's total_notifications leaves out the incident's email "
    "notifications; pagerlens counts all channels (docs/metrics.md total_notifications)",
    INTERRUPTION_DEFINITION: "PagerDuty counts every interrupting notification; pagerlens joins "
    "a user's notifications within interruptions.merge_seconds (docs/metrics.md interruption)",
    INVALID_TIMING: "a resolution timestamped before the incident's creation: PagerDuty reports "
    "the negative duration, pagerlens NULL with data_issue (docs/metrics.md data_issue)",
    WEEK_TIME_ZONE: "PagerDuty bucketed the week in another time zone than pagerlens' "
    "reporting time zone, so incidents near the week's edges fall in another week",
    MERGED_INCIDENT: "the incident was merged into another: PagerDuty counts it as an incident "
    "resolved at the merge; pagerlens keeps it out of the counts, MTTA/MTTR and noise "
    "(docs/metrics.md merged_into_incident_id)",
}


def join(reasons: set[str]) -> str:
    """Several reasons of one difference, in a stable order."""
    return "+".join(sorted(reasons))


def split(reason: str | None) -> list[str]:
    """The reasons of a joined reason (empty for an unexplained difference)."""
    return [] if not reason else reason.split("+")
