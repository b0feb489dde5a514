-- The last successful sync: its finish time is the data's freshness, printed on every page.
-- params: none
-- optional: _sync_runs
with final as (
    select run_id, started_at, finished_at, since, until, mode, api_url
    from _sync_runs
    where status = 'ok' and finished_at is not null
    order by finished_at desc
    limit 1
)

select * from final
