-- Time without a major incident: the gaps between account-wide impact windows within the
-- data period (one row). The current streak runs from the end of the last window (or the
-- start of the data) to the end of the data; it is zero while a major incident is open.
with period as (
    select * from stg_data_period
),

windows as (
    select window_start, window_end
    from int_impact_windows_all
    where scope = 'account'
),

edges as (
    select
        window_end as gap_start,
        lead(window_start) over (order by window_start) as next_window_start
    from windows
),

gaps as (
    -- before the first window
    select period.data_start as gap_start,
        coalesce((select min(window_start) from windows), period.data_end) as gap_end
    from period
    union all
    select edges.gap_start, coalesce(edges.next_window_start, period.data_end) as gap_end
    from edges, period
),

measured as (
    select gap_start, gap_end, epoch(gap_end - gap_start) as gap_seconds
    from gaps
    where gap_start is not null and gap_end is not null and gap_end > gap_start
),

longest as (
    select gap_start, gap_end, gap_seconds
    from measured
    order by gap_seconds desc, gap_start
    limit 1
),

current_streak as (
    select
        coalesce((select max(window_end) from windows), period.data_start) as streak_start,
        period.data_end as streak_end
    from period
),

final as (
    select
        period.data_start,
        period.data_end,
        (select count(*) from windows) as account_impact_window_count,
        case when current_streak.streak_end > current_streak.streak_start
            then current_streak.streak_start end as current_streak_start,
        greatest(coalesce(epoch(current_streak.streak_end - current_streak.streak_start), 0), 0)
            as current_streak_seconds,
        longest.gap_start as longest_streak_start,
        longest.gap_end as longest_streak_end,
        coalesce(longest.gap_seconds, 0) as longest_streak_seconds
    from period
    cross join current_streak
    left join longest on true
)

select * from final
