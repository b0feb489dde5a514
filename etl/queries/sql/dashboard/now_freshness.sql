-- The "Now" page's freshness: when this warehouse was last published, by a nightly sync or by
-- a live apply, how old that is, and up to when the data goes.
-- params: none
-- optional: _sync_runs
with runs as (
    select * from _sync_runs where status = 'ok' and finished_at is not null
),

final as (
    select
        max(finished_at) as published_at,
        epoch(current_timestamp - max(finished_at)) as published_seconds_ago,
        max(until) as data_until,
        max(finished_at) filter (where mode in ('full', 'incremental')) as last_sync_at,
        max(finished_at) filter (where mode = 'live') as last_live_apply_at
    from runs
)

select * from final
