-- Per team and reporting week, same columns and rules as service_weekly; an incident belongs
-- to its first team, else to its service's team. up_time_pct uses the team's impact windows
-- (the union over its services' major incidents). Metrics: int_group_weekly.
with weekly as (
    select * from int_group_weekly
    where grain = 'team'
),

final as (
    select
        weekly.group_id as team_id,
        coalesce(teams.team_name, weekly.incident_group_name) as team_name,
        weekly.week_start,
        weekly.total_incident_count,
        weekly.total_incidents_acknowledged,
        weekly.total_incidents_auto_resolved,
        weekly.mean_seconds_to_first_ack,
        weekly.p50_seconds_to_first_ack,
        weekly.p90_seconds_to_first_ack,
        weekly.p95_seconds_to_first_ack,
        weekly.mean_seconds_to_resolve,
        weekly.p50_seconds_to_resolve,
        weekly.p90_seconds_to_resolve,
        weekly.p95_seconds_to_resolve,
        weekly.total_escalation_count,
        weekly.total_notifications,
        weekly.total_interruptions,
        weekly.total_business_hour_interruptions,
        weekly.total_off_hour_interruptions,
        weekly.total_sleep_hour_interruptions,
        weekly.total_major_incidents,
        weekly.total_noise_incidents,
        weekly.noise_ratio,
        weekly.impacted_seconds,
        weekly.up_time_pct
    from weekly
    left join stg_teams as teams on teams.team_id = weekly.group_id
)

select * from final
