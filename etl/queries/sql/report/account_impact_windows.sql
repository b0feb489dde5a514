-- Account-wide impact windows (the union of major incidents' [created_at, resolved_at)) that
-- start before $end_ts, oldest first: the basis of up-time and the major-free streaks.
-- params: end_ts timestamptz
with final as (
    select window_start, window_end, duration_seconds
    from impact_windows
    where scope = 'account' and window_start < $end_ts
)

select * from final order by window_start
