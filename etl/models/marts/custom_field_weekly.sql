-- The incident metrics per custom field value and reporting week: for each custom field of the
-- account (incident_custom_fields), every incident of the week falls under its value of that
-- field, or '(none)' when the field is not set on it. Keyed by (field_name, field_value,
-- week_start); the metrics are etl/models/macros/incident_metrics.sql. The weekly report's
-- breakdown by a custom field (`pagerlens report --by-field`) reads it. docs/metrics.md
-- "custom_field_weekly".
with fields as (
    select field_name, any_value(display_name) as display_name
    from incident_custom_fields
    group by field_name
),

valued as (
    select
        fields.field_name,
        fields.display_name,
        coalesce(field_values.value, '(none)') as field_value,
        incidents.*
    from incidents
    cross join fields
    left join incident_custom_fields as field_values
        on field_values.incident_id = incidents.incident_id
        and field_values.field_name = fields.field_name
    where incidents.week_start is not null
),

final as (
    select
        field_name,
        any_value(display_name) as display_name,
        field_value,
        week_start,
        unnest(incident_metrics(valued))
    from valued
    group by field_name, field_value, week_start
)

select * from final
