-- params: start_week date, end_week date
-- Per service and week, how many interruptions service_weekly counts in this week only because
-- an interruption belongs to the week of its first notification (docs/metrics.md
-- total_interruptions): + those started this week for an incident of another week, - those of
-- this week's incidents started in another week. PagerDuty counts them in the incident's week;
-- reconcile's `interruption_week` reason needs the shift to equal the difference.
with shifted as (
    select
        interruptions.service_id,
        interruptions.bucket,
        interruptions.week_start as own_week,
        incidents.week_start as incident_week
    from int_interruptions as interruptions
    inner join incidents on incidents.incident_id = interruptions.incident_id
    where interruptions.week_start <> incidents.week_start
),

moves as (
    select service_id, own_week as week_start, bucket, 1 as delta from shifted
    union all
    select service_id, incident_week as week_start, bucket, -1 as delta from shifted
),

final as (
    select
        service_id,
        week_start,
        coalesce(sum(delta) filter (where bucket = 'business'), 0) as business_hour_interruptions,
        coalesce(sum(delta) filter (where bucket = 'off_hour'), 0) as off_hour_interruptions,
        coalesce(sum(delta) filter (where bucket = 'sleep'), 0) as sleep_hour_interruptions
    from moves
    where week_start >= $start_week and week_start < $end_week
    group by service_id, week_start
)

select * from final order by service_id, week_start
