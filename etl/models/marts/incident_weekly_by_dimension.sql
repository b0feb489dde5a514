-- incremental: per week_start of incidents
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
    -- The metrics themselves: etl/models/macros/incident_metrics.sql.
    select
        dimension,
        dimension_value,
        week_start,
        unnest(incident_metrics(dimensioned))
    from dimensioned
    group by dimension, dimension_value, week_start
)

select * from final
