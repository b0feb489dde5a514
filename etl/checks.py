"""Data checks run after every build; any failure fails the build.

Each check is a query that counts offending rows (zero means the check passes), in the spirit
of dbt's generic tests: unique and not-null keys, accepted values, no negative durations,
interruption buckets that add up, every raw incident accounted for, and impact windows that
never overlap. Table and column names come from the fixed lists below, never from data.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


class DataCheckError(RuntimeError):
    """One or more data checks failed; the message lists every failed check."""

    def __init__(self, failed: list[CheckResult]):
        self.failed = failed
        lines = [f"{len(failed)} data check(s) failed:"]
        lines += [
            f"  - {c.name}: {c.failing_rows} offending row(s) ({c.description})" for c in failed
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: how many rows broke it."""

    name: str
    description: str
    failing_rows: int

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


# (table, key columns): unique together and never NULL.
UNIQUE_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("incidents", ("incident_id",)),
    ("service_weekly", ("service_id", "week_start")),
    ("team_weekly", ("team_id", "week_start")),
    ("responder_weekly", ("user_id", "week_start")),
    ("incident_weekly_by_dimension", ("dimension", "dimension_value", "week_start")),
    ("int_interruptions", ("interruption_id",)),
    ("int_notifications", ("log_entry_id",)),
    ("service_setting_flags", ("service_id",)),
    ("stg_maintenance_windows", ("maintenance_window_id", "service_id")),
    ("skipped_resources", ("resource",)),
    ("incident_custom_fields", ("incident_id", "field_name")),
)

NOT_NULL: tuple[tuple[str, str], ...] = (
    ("incidents", "created_at"),
    ("incidents", "week_start"),
    ("incidents", "is_major"),
    ("incidents", "auto_resolved"),
    ("incidents", "data_issue"),
    ("impact_windows", "scope"),
    ("impact_windows", "window_start"),
    ("impact_windows", "window_end"),
    ("responder_weekly", "health_score"),
    ("int_interruptions", "bucket"),
    ("stg_maintenance_windows", "start_at"),
    ("stg_maintenance_windows", "end_at"),
    ("service_setting_flags", "auto_resolve_distorts_mttr"),
    ("service_setting_flags", "ack_timeout_retriggers"),
    ("skipped_resources", "reason"),
)

# Who typed an alert (etl/noise/alert_types.py): an integration's structured identity or text.
IDENTITY_SOURCES = ("alertmanager", "grafana", "datadog", "cloudwatch", "uptimerobot", "text")

# (table, column, accepted values; NULL is accepted where listed as None).
ACCEPTED_VALUES: tuple[tuple[str, str, tuple[str | None, ...]], ...] = (
    ("incidents", "noise_reason", ("transient", "auto_resolved_unacked", None)),
    ("impact_windows", "scope", ("service", "account")),
    ("int_interruptions", "bucket", ("business", "off_hour", "sleep")),
    ("int_notifications", "bucket", ("business", "off_hour", "sleep")),
    ("incident_weekly_by_dimension", "dimension", ("account", "urgency", "priority")),
    ("int_incident_noise", "identity_source", IDENTITY_SOURCES),
    ("alert_templates", "identity_source", IDENTITY_SOURCES),
)

# Tables of the noise step, absent from a build without it (``build_marts(noise=False)``):
# their checks run when the table exists.
NOISE_TABLES = frozenset({"int_incident_noise", "alert_templates"})

# (table, column): never negative.
NON_NEGATIVE: tuple[tuple[str, str], ...] = (
    ("incidents", "seconds_to_first_ack"),
    ("incidents", "seconds_to_resolve"),
    ("impact_windows", "duration_seconds"),
    ("responder_weekly", "total_engaged_seconds"),
    ("responder_weekly", "total_seconds_on_call"),
    ("responder_weekly", "total_seconds_on_call_level_1"),
    ("responder_weekly", "total_seconds_on_call_level_2_plus"),
    ("service_weekly", "impacted_seconds"),
    ("team_weekly", "impacted_seconds"),
    ("service_setting_flags", "auto_resolve_timeout_share"),
    ("service_setting_flags", "retriggered_share"),
)

BUCKET_TABLES = ("service_weekly", "team_weekly", "responder_weekly")

# Queries that are not one of the generic shapes above: (name, description, count query).
CUSTOM_CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "incidents_accounted_for",
        "every raw incident is in `incidents` or in _rejects",
        """
        select count(*) from raw_incidents as raw
        where not exists (select 1 from incidents where incidents.incident_id = raw.id)
            and not exists (
                select 1 from _rejects
                where _rejects.source = 'incidents' and _rejects.record_key = raw.id
            )
        """,
    ),
    (
        "impact_windows_disjoint",
        "impact windows of one scope (and service) never overlap or touch",
        """
        select count(*) from (
            select window_start, lag(window_end) over (
                partition by scope, service_id order by window_start
            ) as previous_end
            from impact_windows
        ) where window_start <= previous_end
        """,
    ),
    (
        "impact_windows_scope_service",
        "service windows name a service, account windows none",
        """
        select count(*) from impact_windows
        where (scope = 'service') <> (service_id is not null)
        """,
    ),
    (
        "impact_windows_positive",
        "impact windows end after they start",
        "select count(*) from impact_windows where window_end <= window_start",
    ),
    (
        "duration_only_when_valid",
        "an incident with a duration has no data issue in that duration",
        """
        select count(*) from incidents
        where (seconds_to_first_ack is null) <> (first_ack_at is null or first_ack_at < created_at)
            or (seconds_to_resolve is null) <> (resolved_at is null or resolved_at < created_at)
        """,
    ),
    (
        "noise_flag_matches_reason",
        "is_noise is exactly noise_reason IS NOT NULL",
        "select count(*) from incidents where is_noise <> (noise_reason is not null)",
    ),
    (
        "health_score_range",
        "health_score lies in [0, 100]",
        "select count(*) from responder_weekly where health_score < 0 or health_score > 100",
    ),
    (
        "up_time_pct_range",
        "up_time_pct lies in [0, 100]",
        """
        select count(*) from (
            select up_time_pct from service_weekly
            union all
            select up_time_pct from team_weekly
        ) where up_time_pct < -1e-9 or up_time_pct > 100 + 1e-9
        """,
    ),
    (
        "noise_ratio_range",
        "noise_ratio lies in [0, 1]",
        """
        select count(*) from (
            select noise_ratio from service_weekly
            union all
            select noise_ratio from team_weekly
        ) where noise_ratio < 0 or noise_ratio > 1
        """,
    ),
    (
        "week_start_is_monday",
        "every week_start is a Monday",
        """
        select count(*) from (
            select week_start from service_weekly
            union all select week_start from team_weekly
            union all select week_start from responder_weekly
            union all select week_start from incidents
        ) where isodow(week_start) <> 1
        """,
    ),
)


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not an identifier: {name!r}")
    return f'"{name}"'


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return int(con.execute(sql, params or []).fetchall()[0][0])


def _generic_checks(absent: frozenset[str] = frozenset()) -> list[tuple[str, str, str, list]]:
    """(name, description, query, params) for the table-driven checks above, except those on
    the ``absent`` tables."""
    checks: list[tuple[str, str, str, list]] = []
    # Identifiers come from the fixed lists of this module, quoted by _ident; values are bound.
    for table, keys in UNIQUE_KEYS:
        cols = ", ".join(_ident(k) for k in keys)
        checks.append(
            (
                f"unique:{table}({','.join(keys)})",
                f"{table} has one row per ({', '.join(keys)})",
                f"select count(*) from (select {cols} from {_ident(table)} "  # noqa: S608
                f"group by {cols} having count(*) > 1)",
                [],
            )
        )
        nulls = " or ".join(f"{_ident(k)} is null" for k in keys)
        checks.append(
            (
                f"not_null:{table}({','.join(keys)})",
                f"{table} key columns are never NULL",
                f"select count(*) from {_ident(table)} where {nulls}",  # noqa: S608
                [],
            )
        )
    for table, column in NOT_NULL:
        checks.append(
            (
                f"not_null:{table}.{column}",
                f"{table}.{column} is never NULL",
                f"select count(*) from {_ident(table)} where {_ident(column)} is null",  # noqa: S608
                [],
            )
        )
    for table, column, values in ACCEPTED_VALUES:
        if table in absent:
            continue
        allowed = [v for v in values if v is not None]
        null_ok = None in values
        null_clause = "" if null_ok else f" or {_ident(column)} is null"
        checks.append(
            (
                f"accepted_values:{table}.{column}",
                f"{table}.{column} in {list(values)}",
                f"select count(*) from {_ident(table)} "  # noqa: S608
                f"where not list_contains(?, {_ident(column)}){null_clause}",
                [allowed],
            )
        )
    for table, column in NON_NEGATIVE:
        checks.append(
            (
                f"non_negative:{table}.{column}",
                f"{table}.{column} >= 0",
                f"select count(*) from {_ident(table)} where {_ident(column)} < 0",  # noqa: S608
                [],
            )
        )
    for table in BUCKET_TABLES:
        checks.append(
            (
                f"buckets_add_up:{table}",
                f"{table}: business + off_hour + sleep interruptions = total",
                f"select count(*) from {_ident(table)} where total_business_hour_interruptions "  # noqa: S608
                "+ total_off_hour_interruptions + total_sleep_hour_interruptions "
                "<> total_interruptions",
                [],
            )
        )
    return checks


def run_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """Run every check on the built marts; return all results (failed ones included)."""
    results: list[CheckResult] = []
    present = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where list_contains(?, table_name)",
            [sorted(NOISE_TABLES)],
        ).fetchall()
    }
    queries = _generic_checks(NOISE_TABLES - present) + [(n, d, q, []) for n, d, q in CUSTOM_CHECKS]
    for name, description, sql, params in queries:
        results.append(CheckResult(name, description, _count(con, sql, params)))
    return results
