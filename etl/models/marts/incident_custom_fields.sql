-- incremental: per incident_id of stg_incidents, stg_custom_field_changes
-- One row per (incident, custom field) with the incident's current value: the public table the
-- dashboard's and report's custom-field filter reads. docs/metrics.md "incident_custom_fields".
-- Source: the custom-field change log entries (stg_custom_field_changes), the last readable
-- change by (created_at, log entry id, position) winning. PagerDuty's incident object carries
-- `custom_fields` only on GET /incidents/{id}?include[]=custom_fields, a request per incident
-- the sync does not make; when a raw incident does carry them (another client stored it, or
-- a future listing), its fields without any change entry are added with changed_at and
-- changed_by NULL, and its display names and data types label the fields it shares with them.
-- Multi-value fields are joined with ', '; an unset field (null or empty list) is NULL.
with incident_ids as (
    select incident_id from stg_incidents
),

changes as (
    select * from stg_custom_field_changes
    where reject_reason is null
        and incident_id in (select incident_id from incident_ids)
),

last_change as (
    select
        incident_id,
        field_name,
        arg_max(
            struct_pack(value, data_type, created_at, changed_by),
            struct_pack(created_at, log_entry_id, position)
        ) as latest
    from changes
    group by incident_id, field_name
),

-- The incident object's own `custom_fields`, when the stored payload has them.
object_fields as (
    select
        incident_id,
        json_extract_string(field, '$.name') as field_name,
        json_extract_string(field, '$.display_name') as display_name,
        json_extract_string(field, '$.data_type') as data_type,
        case
            when json_type(field, '$.value') = 'ARRAY'
                then nullif(array_to_string(json_extract_string(field, '$.value[*]'), ', '), '')
            when json_type(field, '$.value') in ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')
                then json_extract_string(field, '$.value')
        end as value
    from (
        select incident_id, unnest(cast(json_extract(custom_fields, '$[*]') as json[])) as field
        from stg_incidents
        where custom_fields is not null
    )
    where json_extract_string(field, '$.name') is not null
),

merged as (
    select
        coalesce(last_change.incident_id, object_fields.incident_id) as incident_id,
        coalesce(last_change.field_name, object_fields.field_name) as field_name,
        coalesce(object_fields.display_name, last_change.field_name, object_fields.field_name)
            as display_name,
        coalesce(object_fields.data_type, last_change.latest.data_type) as data_type,
        nullif(
            case
                when last_change.incident_id is not null then last_change.latest.value
                else object_fields.value
            end,
            ''
        ) as value,
        last_change.latest.created_at as changed_at,
        last_change.latest.changed_by as changed_by
    from last_change
    full outer join object_fields
        on object_fields.incident_id = last_change.incident_id
        and object_fields.field_name = last_change.field_name
),

final as (
    select
        cast(incident_id as varchar) as incident_id,
        cast(field_name as varchar) as field_name,
        cast(display_name as varchar) as display_name,
        cast(data_type as varchar) as data_type,
        cast(value as varchar) as value,
        cast(changed_at as timestamptz) as changed_at,
        cast(changed_by as varchar) as changed_by
    from merged
)

select * from final
