-- On-call seconds per user and reporting week, at any level, at level 1 and at levels 2+.
-- Periods are clipped to the synced data period (nothing after its end, nothing before its
-- start), overlapping periods of one user (the same schedule in several escalation policies)
-- are merged so an hour on call counts once, then the merged intervals are cut at week edges.
with period as (
    select * from stg_data_period
),

clipped as (
    select
        oncalls.user_id,
        oncalls.escalation_level,
        greatest(coalesce(oncalls.start_at, period.data_start), period.data_start) as start_at,
        least(coalesce(oncalls.end_at, period.data_end), period.data_end) as end_at
    from stg_oncalls as oncalls, period
    where oncalls.user_id is not null
),

classed as (
    select user_id, 'any' as level_class, start_at, end_at from clipped
    union all
    select user_id,
        case when escalation_level <= 1 then 'level_1' else 'level_2_plus' end as level_class,
        start_at, end_at
    from clipped
),

valid as (
    select * from classed
    where start_at is not null and end_at is not null and end_at > start_at
),

ordered as (
    select
        *,
        max(end_at) over (
            partition by user_id, level_class order by start_at, end_at
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end
    from valid
),

numbered as (
    select
        *,
        sum(case when previous_max_end is null or start_at > previous_max_end then 1 else 0 end)
            over (
                partition by user_id, level_class order by start_at, end_at
                rows between unbounded preceding and current row
            ) as island_number
    from ordered
),

merged as (
    select user_id, level_class, min(start_at) as start_at, max(end_at) as end_at
    from numbered
    group by user_id, level_class, island_number
),

expanded as (
    select
        *,
        unnest(reporting_weeks(start_at, end_at, $reporting_time_zone)) as week_start
    from merged
),

cut as (
    select
        user_id,
        level_class,
        week_start,
        epoch(
            least(end_at, timezone($reporting_time_zone, cast(week_start + 7 as timestamp)))
            - greatest(start_at, timezone($reporting_time_zone, cast(week_start as timestamp)))
        ) as seconds
    from expanded
),

final as (
    select
        user_id,
        week_start,
        coalesce(sum(seconds) filter (where level_class = 'any'), 0) as total_seconds_on_call,
        coalesce(sum(seconds) filter (where level_class = 'level_1'), 0)
            as total_seconds_on_call_level_1,
        coalesce(sum(seconds) filter (where level_class = 'level_2_plus'), 0)
            as total_seconds_on_call_level_2_plus
    from cut
    where seconds > 0
    group by user_id, week_start
)

select * from final
