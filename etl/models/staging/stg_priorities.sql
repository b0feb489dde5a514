-- Priorities ranked most severe first. PagerDuty lists them highest first; the raw table does
-- not keep list order, so the rank uses the payload's `order` (list position, ascending) when
-- present, else `priority_order` (higher is more severe), else the name.
with parsed as (
    select
        id,
        json_extract_string(payload, ['$.name', '$.summary', '$.order', '$.priority_order']) as f
    from raw_priorities
),

final as (
    select
        id as priority_id,
        coalesce(f[1], f[2]) as priority_name,
        row_number() over (
            order by
                try_cast(f[3] as double) asc nulls last,
                try_cast(f[4] as double) desc nulls last,
                coalesce(f[1], f[2]),
                id
        ) as priority_rank
    from parsed
)

select * from final
