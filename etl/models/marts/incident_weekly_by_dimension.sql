-- MTTA/MTTR and counts per reporting week for the whole account and broken down by urgency
-- and by priority, keyed by (dimension, dimension_value, week_start). Incidents without a
-- priority (or urgency) are grouped under the value '(none)'.
with dated_incidents as (
    select * from incidents
    where week_start is not null
),

dimensioned as (
    select 'account' as dimension, 'all' as dimension_value, * from dated_incidents
    union all
    select 'urgency' as dimension, coalesce(urgency, '(none)') as dimension_value, *
    from dated_incidents
    union all
    select 'priority' as dimension, coalesce(priority_name, '(none)') as dimension_value, *
    from dated_incidents
),

final as (
    select
        dimension,
        dimension_value,
        week_start,
        count(*) as total_incident_count,
        count(*) filter (where first_ack_at is not null) as total_incidents_acknowledged,
        count(*) filter (where auto_resolved) as total_incidents_auto_resolved,
        avg(seconds_to_first_ack) as mean_seconds_to_first_ack,
        quantile_cont(seconds_to_first_ack, 0.5) as p50_seconds_to_first_ack,
        quantile_cont(seconds_to_first_ack, 0.9) as p90_seconds_to_first_ack,
        quantile_cont(seconds_to_first_ack, 0.95) as p95_seconds_to_first_ack,
        avg(seconds_to_resolve) as mean_seconds_to_resolve,
        quantile_cont(seconds_to_resolve, 0.5) as p50_seconds_to_resolve,
        quantile_cont(seconds_to_resolve, 0.9) as p90_seconds_to_resolve,
        quantile_cont(seconds_to_resolve, 0.95) as p95_seconds_to_resolve,
        cast(sum(escalation_count) as bigint) as total_escalation_count,
        cast(sum(total_notifications) as bigint) as total_notifications,
        count(*) filter (where is_major) as total_major_incidents,
        count(*) filter (where is_noise) as total_noise_incidents,
        count(*) filter (where is_noise) / count(*) as noise_ratio
    from dimensioned
    group by dimension, dimension_value, week_start
)

select * from final
