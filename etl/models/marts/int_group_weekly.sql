-- incremental: per week_start of incidents, int_interruptions, int_impact_weekly
-- The weekly metrics of docs/metrics.md "Weekly grain", computed once for both groupings that
-- PagerDuty Analytics reports (`grain` 'service' or 'team', `group_id` the service or team id).
-- service_weekly and team_weekly only pick their grain and add names. Incidents and their sums
-- belong to the week of the incident's creation; interruptions to the week of their first
-- notification; up-time uses the grain's impact windows.
with incident_groups as (
    select 'service' as grain, service_id as group_id, service_name as group_name, *
    from incidents
    where service_id is not null
    union all by name
    select 'team' as grain, team_id as group_id, team_name as group_name, *
    from incidents
    where team_id is not null
),

incident_stats as (
    -- The metrics themselves: etl/models/macros/incident_metrics.sql.
    select
        grain,
        group_id,
        week_start,
        any_value(group_name) as incident_group_name,
        unnest(incident_metrics(incident_groups))
    from incident_groups
    where week_start is not null
    group by grain, group_id, week_start
),

interruption_groups as (
    select 'service' as grain, service_id as group_id, week_start, bucket
    from int_interruptions
    where service_id is not null
    union all
    select 'team' as grain, team_id as group_id, week_start, bucket
    from int_interruptions
    where team_id is not null
),

interruption_stats as (
    select
        grain,
        group_id,
        week_start,
        unnest(interruption_counts(bucket))
    from interruption_groups
    group by grain, group_id, week_start
),

impact as (
    select scope as grain, scope_key as group_id, week_start, impacted_seconds
    from int_impact_weekly
    where scope in ('service', 'team')
),

keys as (
    select grain, group_id, week_start from incident_stats
    union
    select grain, group_id, week_start from interruption_stats
    union
    select grain, group_id, week_start from impact
),

final as (
    select
        keys.grain,
        keys.group_id,
        s.incident_group_name,
        keys.week_start,
        -- The incident metrics (etl/models/macros/incident_metrics.sql) in the macro's order,
        -- counts 0 in a week without incidents: total_incident_count,
        -- total_incidents_acknowledged, total_incidents_auto_resolved; MTTA then MTTR (mean,
        -- p50, p90, p95); the escalation and notification sums.
        coalesce(columns('^total_incidents?_'), 0),
        s.* similar to '(mean|p50|p90|p95)_seconds_to_.*',
        coalesce(columns('^total_(escalation_count|notifications)$'), 0),
        -- The interruption counts (etl/models/macros/interruption_counts.sql), 0 without any.
        coalesce(columns(i.* exclude (grain, group_id, week_start)), 0),
        coalesce(columns('^total_(major|noise)_incidents$'), 0),
        s.noise_ratio,
        coalesce(impact.impacted_seconds, 0) as impacted_seconds,
        100.0 * (1 - coalesce(impact.impacted_seconds, 0) / epoch(
            timezone($reporting_time_zone, cast(keys.week_start + 7 as timestamp))
            - timezone($reporting_time_zone, cast(keys.week_start as timestamp))
        )) as up_time_pct
    from keys
    left join incident_stats as s
        on s.grain = keys.grain and s.group_id = keys.group_id
        and s.week_start = keys.week_start
    left join interruption_stats as i
        on i.grain = keys.grain and i.group_id = keys.group_id
        and i.week_start = keys.week_start
    left join impact
        on impact.grain = keys.grain and impact.group_id = keys.group_id
        and impact.week_start = keys.week_start
)

select * from final
