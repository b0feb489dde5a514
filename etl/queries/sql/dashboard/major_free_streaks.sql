-- Fallback for warehouses without the major_free_streaks mart. Streaks without a major
-- incident: the gaps between account-wide windows, from the first incident of the data to its
-- last instant (an open major's window runs to the end, so it is part of the period). The last
-- row is always the current streak, zero seconds while a window reaches the end of the data.
with period as (
    select min(created_at) as period_start,
        greatest(max(created_at), max(resolved_at),
                 (select max(window_end) from impact_windows where scope = 'account'))
            as period_end
    from incidents
),
windows as (
    select window_start, window_end from impact_windows where scope = 'account'
),
edges as (
    select period.period_start as gap_start, min(windows.window_start) as gap_end, 0 as position
    from period left join windows on true
    group by period.period_start, period.period_end
    union all
    select w.window_end as gap_start,
        coalesce(lead(w.window_start) over (order by w.window_start), p.period_end) as gap_end,
        1 as position
    from windows as w, period as p
),
final as (
    select gap_start, coalesce(gap_end, (select period_end from period)) as gap_end, position
    from edges
)
select gap_start, gap_end, epoch(gap_end) - epoch(gap_start) as gap_seconds
from final
where gap_end >= gap_start
order by gap_start, position
