-- Per service and reporting week, with PagerDuty Analytics' column names
-- (docs/metrics.md "Weekly grain"); the metrics are computed in int_group_weekly.
with weekly as (
    select * from int_group_weekly
    where grain = 'service'
),

final as (
    select
        weekly.group_id as service_id,
        coalesce(services.service_name, weekly.incident_group_name) as service_name,
        services.team_id,
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
    left join stg_services as services on services.service_id = weekly.group_id
)

select * from final
