-- The report's breakdown by one custom field: the week's incident metrics per value of the
-- field ('(none)': not set), from custom_field_weekly (the models' own metrics), with the
-- previous week's count. Values with incidents in either week; most incidents first.
-- params: field_name varchar, week_start date, previous_week_start date
-- optional: custom_field_weekly
with weeks as (
    select * from custom_field_weekly
    where field_name = $field_name and week_start in ($week_start, $previous_week_start)
),

this_week as (
    select * from weeks where week_start = $week_start
),

previous as (
    select field_value, total_incident_count from weeks where week_start = $previous_week_start
),

final as (
    select
        $field_name as field_name,
        coalesce(this_week.field_value, previous.field_value) as field_value,
        coalesce(this_week.total_incident_count, 0) as total_incident_count,
        coalesce(previous.total_incident_count, 0) as previous_total_incident_count,
        coalesce(this_week.total_major_incidents, 0) as total_major_incidents,
        coalesce(this_week.total_noise_incidents, 0) as total_noise_incidents,
        -- MTTA then MTTR: mean, p50, p90 (the mart's order).
        this_week.* similar to '(mean|p50|p90)_seconds_to_.*'
    from this_week
    full outer join previous using (field_value)
)

select * from final
order by field_value = '(none)', total_incident_count desc, field_value
