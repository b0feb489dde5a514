-- Maintenance windows held in PagerDuty (past, ongoing and future, as synced): one row per
-- window and service it covers. PagerDuty creates no incident on a service inside its window.
with parsed as (
    select
        id,
        json_extract_string(payload, [
            '$.start_time', '$.end_time', '$.description', '$.sequence_number', '$.created_by.id'
        ]) as f,
        json_extract_string(payload, '$.services[*].id') as service_ids
    from raw_maintenance_windows
),

final as (
    select
        id as maintenance_window_id,
        unnest(service_ids) as service_id,
        try_cast(f[1] as timestamptz) as start_at,
        try_cast(f[2] as timestamptz) as end_at,
        f[3] as description,
        try_cast(f[4] as bigint) as sequence_number,
        f[5] as created_by_user_id
    from parsed
)

select * from final
