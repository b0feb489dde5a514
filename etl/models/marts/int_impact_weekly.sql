-- Impacted seconds per scope and reporting week: each impact window cut at the week edges
-- (Monday 00:00 in the reporting zone). `week_seconds` is the week's real length, 604,800
-- except in a week with a daylight-saving switch of the reporting zone.
with windows as (
    select * from int_impact_windows_all
),

expanded as (
    select
        scope,
        scope_key,
        window_start,
        window_end,
        unnest(reporting_weeks(window_start, window_end, $reporting_time_zone)) as week_start
    from windows
),

bounded as (
    select
        *,
        timezone($reporting_time_zone, cast(week_start as timestamp)) as week_begin_at,
        timezone($reporting_time_zone, cast(week_start + 7 as timestamp)) as week_end_at
    from expanded
),

final as (
    select
        scope,
        scope_key,
        week_start,
        sum(epoch(least(window_end, week_end_at) - greatest(window_start, week_begin_at)))
            as impacted_seconds,
        any_value(epoch(week_end_at - week_begin_at)) as week_seconds
    from bounded
    where least(window_end, week_end_at) > greatest(window_start, week_begin_at)
    group by scope, scope_key, week_start
)

select * from final
