-- Priorities ranked most severe first. PagerDuty lists them highest first; the raw table does
-- not keep list order, so the rank uses the payload's `order` (list position, ascending) when
-- present, else `priority_order` (higher is more severe), else the name.
with parsed as (
    select
        id as priority_id,
        json_extract_string(payload, ['$.name', '$.summary', '$.order', '$.priority_order']) as f
    from raw_priorities
),

named as (
    select
        priority_id,
        coalesce(f[1], f[2]) as priority_name,
        try_cast(f[3] as double) as list_position,
        try_cast(f[4] as double) as priority_order
    from parsed
),

final as (
    select
        priority_id,
        priority_name,
        row_number() over (
            order by
                list_position asc nulls last,
                priority_order desc nulls last,
                priority_name,
                priority_id
        ) as priority_rank
    from named
)

select * from final
