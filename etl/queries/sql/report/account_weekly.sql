-- Account-wide weekly headline for the reporting weeks in [$first_week, $last_week]: the
-- account rows of incident_weekly_by_dimension (the metrics are computed once, in the models).
-- params: first_week date, last_week date
with final as (
    select
        week_start,
        total_incident_count,
        total_incidents_acknowledged,
        total_incidents_auto_resolved,
        mean_seconds_to_first_ack,
        p90_seconds_to_first_ack,
        mean_seconds_to_resolve,
        p90_seconds_to_resolve,
        total_major_incidents,
        total_noise_incidents,
        noise_ratio
    from incident_weekly_by_dimension
    where dimension = 'account' and week_start >= $first_week and week_start <= $last_week
)

select * from final order by week_start
