-- The optional resources the last successful sync could not read (402 plan, 403 key scope,
-- 404 feature absent; etl.extract.OPTIONAL_RESOURCES), with what their absence means for the
-- marts and how many rows an earlier sync left in the raw table (kept, possibly stale). Empty
-- when the last sync read everything. docs/etl.md "Plan-gated and missing endpoints".
with last_run as (
    select run_id, finished_at
    from _sync_runs
    where status = 'ok'
    order by finished_at desc nulls last, started_at desc
    limit 1
),

consequences (resource, consequence) as (
    values
        ('teams', 'no team list: team names come from the incidents'' and services'' own '
            || 'team references; teams without one are missing from team filters'),
        ('users', 'no user list: responder names are missing and every interruption is '
            || 'bucketed in the account time zone (time.account_time_zone)'),
        ('escalation_policies', 'no escalation policies: a service without a team of its own '
            || 'gets no owning team from its policy in the noise recommendations'),
        ('schedules', 'no schedules: nothing in the marts reads them today'),
        ('priorities', 'no priorities: priority filters and per-priority rows show the '
            || 'incidents'' own priority names unranked, and majors by priority need '
            || 'major.priorities (the top two cannot be known)'),
        ('oncalls', 'no on-call data: on-call time is 0 in responder_weekly and the '
            || 'interruptions per on-call week are measured against 1 week'),
        ('maintenance_windows', 'no maintenance windows: recommendations cannot tell a window '
            || 'already booked in PagerDuty'),
        ('service_orchestrations', 'no Event Orchestration rules: recommendations cannot tell '
            || 'an alert type a rule already suppresses or suspends, and service_setting_flags '
            || 'cannot flag rules that hold incidents back'),
        ('service_dependencies', 'no service dependencies (Service Graph): storms are found '
            || 'by co-firing alone, not read from the graph (docs/grouping.md, section 3), or '
            || 'from the graph as an earlier sync left it (rows_kept)')
),

kept (resource, rows_kept) as (
    select 'teams', count(*) from raw_teams
    union all select 'users', count(*) from raw_users
    union all select 'escalation_policies', count(*) from raw_escalation_policies
    union all select 'schedules', count(*) from raw_schedules
    union all select 'priorities', count(*) from raw_priorities
    union all select 'oncalls', count(*) from raw_oncalls
    union all select 'maintenance_windows', count(*) from raw_maintenance_windows
    union all select 'service_orchestrations', count(*) from raw_service_orchestrations
    union all select 'service_dependencies', count(*) from raw_service_dependencies
),

final as (
    select
        skips.resource,
        skips.endpoint,
        skips.http_status,
        case skips.http_status
            when 402 then 'not in the account''s plan'
            when 403 then 'not readable with this API key'
            when 404 then 'absent (feature switched off)'
        end as reason,
        skips.message as pagerduty_message,
        coalesce(
            consequences.consequence, 'not read: the marts that use it show it as missing'
        ) as consequence,
        coalesce(kept.rows_kept, 0) as rows_kept,
        last_run.run_id,
        last_run.finished_at as skipped_at
    from _sync_skips as skips
    join last_run on last_run.run_id = skips.run_id
    left join consequences on consequences.resource = skips.resource
    left join kept on kept.resource = skips.resource
)

select * from final
