-- Account up-time per week: impacted seconds of account-wide windows inside each week.
-- params: start_week date, end_week date, reporting_time_zone varchar
-- optional: impact_windows
with weeks as (
    select cast(w as date) as week_start
    from range(cast($start_week as timestamp), cast($end_week as timestamp) + interval 1 day,
               interval 7 day) as r(w)
),
bounds as (
    select week_start, timezone($reporting_time_zone, cast(week_start as timestamp)) as lo,
        timezone($reporting_time_zone, cast(week_start as timestamp) + interval 7 day) as hi
    from weeks
),
overlap as (
    select bounds.week_start,
        -- least/greatest skip NULLs, so a week without windows must be excluded explicitly.
        coalesce(sum(epoch(least(w.window_end, bounds.hi))
            - epoch(greatest(w.window_start, bounds.lo)))
            filter (where w.window_start is not null), 0) as impacted_seconds
    from bounds
    left join impact_windows as w
        on w.scope = 'account' and w.window_start < bounds.hi and w.window_end > bounds.lo
    group by bounds.week_start
),
final as (
    select week_start, 100 * (1 - impacted_seconds / 604800.0) as up_time_pct
    from overlap
)
select * from final order by week_start
