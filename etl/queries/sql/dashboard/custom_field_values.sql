-- The custom fields the sidebar offers and their values, commonest first; '(none)' stands for
-- incidents on which the field is not set. Empty when the account has no custom fields.
-- params: none
-- optional: incident_custom_fields
with fields as (
    select field_name, any_value(display_name) as display_name
    from incident_custom_fields
    group by field_name
),

field_values as (
    select field_name, value, count(*) as incidents
    from incident_custom_fields
    where value is not null
    group by field_name, value
),

final as (
    select fields.field_name, fields.display_name, field_values.value, field_values.incidents
    from fields
    join field_values using (field_name)
    union all
    select field_name, display_name, '(none)' as value, null as incidents
    from fields
)

select * from final
order by display_name, field_name, value = '(none)', incidents desc nulls last, value
