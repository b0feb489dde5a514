-- incremental: per log_entry_id of stg_log_entries
-- One row per custom field changed by a `custom_field_value_change_log_entry`, read from the
-- log entries the sync already fetches (no extra request): PagerDuty puts the structured
-- change in the entry's `channel.changeset.customer_fields` (id, name, value, old_value,
-- namespace; the top-level `changeset` is the same change as display text). A change this
-- model cannot read keeps its row with `reject_reason` set (the `incident_custom_field_rejects`
-- mart lists them); readable rows have it NULL. docs/metrics.md "incident_custom_fields".
with entries as (
    -- stg_log_entries has read the changed fields in its one pass over the raw JSON.
    select
        log_entry_id,
        is_reference,
        incident_id,
        created_at,
        agent_id as changed_by,
        custom_field_changes as fields
    from stg_log_entries
    where entry_type = 'custom_field_value_change_log_entry'
),

-- An entry without a readable list of changed fields is one reject row (position 0).
unreadable as (
    select
        * exclude (is_reference, fields),
        0 as position,
        case
            when is_reference
                then 'overview entry without its changeset (listed without include[]=channels)'
            when fields is null then 'no channel.changeset.customer_fields'
            else 'channel.changeset.customer_fields is not a list'
        end as entry_reason
    from entries
    where fields is null or json_type(fields) <> 'ARRAY' or is_reference
),

items as (
    select
        * exclude (is_reference, fields, list_items),
        generate_subscripts(list_items, 1) as position,
        unnest(list_items) as item
    from (
        select *, cast(json_extract(fields, '$[*]') as json[]) as list_items
        from entries
        where json_type(fields) = 'ARRAY' and not is_reference
    )
),

typed as (
    select
        * exclude (item),
        json_extract_string(item, '$.id') as field_id,
        json_extract_string(item, '$.name') as field_name,
        json_type(item, '$.name') as name_type,
        json_extract(item, '$.value') as raw_value,
        json_type(item, '$.value') as value_type,
        json_type(item) as item_type
    from items
),

-- A multi-value field's values are a list of scalars; the list's type is its first value's.
valued as (
    select
        *,
        case
            when value_type = 'ARRAY'
                then list_transform(
                    cast(json_extract(raw_value, '$[*]') as json[]), lambda v: json_type(v)
                )
        end as element_types
    from typed
),

readable as (
    select
        * exclude (name_type, raw_value, value_type, item_type, element_types),
        case
            when value_type = 'ARRAY' and len(element_types) > 0
                then array_to_string(json_extract_string(raw_value, '$[*]'), ', ')
            when value_type in ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')
                then json_extract_string(raw_value, '$')
        end as value,
        case coalesce(element_types[1], value_type)
            when 'VARCHAR' then 'string'
            when 'BIGINT' then 'integer'
            when 'UBIGINT' then 'integer'
            when 'DOUBLE' then 'float'
            when 'BOOLEAN' then 'boolean'
        end as data_type,
        case
            when item_type <> 'OBJECT' then 'a changed field that is not an object'
            when field_name is null or name_type <> 'VARCHAR' or field_name = ''
                then 'a changed field without a name'
            when value_type = 'OBJECT' then 'a value that is an object'
            when value_type = 'ARRAY' and list_has_any(element_types, ['OBJECT', 'ARRAY'])
                then 'a multi-value field with a value that is not a scalar'
            when incident_id is null then 'no incident'
            when created_at is null then 'no readable created_at'
        end as reject_reason
    from valued
),

final as (
    select * from readable
    union all by name
    -- By name: the field's columns are NULL on these rows.
    select * rename (entry_reason as reject_reason) from unreadable
)

select * from final
