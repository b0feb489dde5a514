-- Account-wide weekly headline from the incidents mart: the same aggregates as service_weekly
-- (means and continuous percentiles over non-NULL durations), over every incident created in
-- [$start_ts, $end_ts), grouped by the Monday of the reporting time zone.
with scoped as (
    select
        *,
        cast(date_trunc('week', timezone($reporting_time_zone, created_at)) as date) as week
    from incidents
    where created_at >= $start_ts and created_at < $end_ts
),

final as (
    select
        week as week_start,
        count(*) as total_incident_count,
        count(first_ack_at) as total_incidents_acknowledged,
        count(*) filter (where auto_resolved) as total_incidents_auto_resolved,
        avg(seconds_to_first_ack) as mean_seconds_to_first_ack,
        quantile_cont(seconds_to_first_ack, 0.9) as p90_seconds_to_first_ack,
        avg(seconds_to_resolve) as mean_seconds_to_resolve,
        quantile_cont(seconds_to_resolve, 0.9) as p90_seconds_to_resolve,
        count(*) filter (where is_major) as total_major_incidents,
        count(*) filter (where is_noise) as total_noise_incidents,
        avg(case when is_noise then 1.0 else 0.0 end) as noise_ratio
    from scoped
    group by week
)

select * from final order by week_start
