-- The period the warehouse covers (one row). Start: the earliest `since` of a successful sync,
-- else the first incident. End: the latest `until` of a successful sync (or generate run),
-- else the latest watermark, else the latest fetch time. Open incidents run to `data_end`.
with runs as (
    select min(since) as first_since, max(until) as last_until
    from _sync_runs
    where status = 'ok'
),

marks as (
    select max(value) as last_watermark from _watermarks
),

fetched as (
    select max(fetched_at) as last_fetched from raw_incidents
),

created as (
    select min(created_at) as first_created, max(created_at) as last_created
    from stg_incidents
),

final as (
    select
        coalesce(runs.first_since, created.first_created) as data_start,
        coalesce(runs.last_until, marks.last_watermark, fetched.last_fetched, created.last_created)
            as data_end
    from runs, marks, fetched, created
)

select * from final
