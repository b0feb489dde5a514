-- Responder load and health per user and reporting week (docs/metrics.md "Responder load"
-- and "health_score"). Load counts are attributed as the contract says: interruptions and
-- notifications to their own week, acknowledgements and engaged time to the incident's week.
with interruptions as (
    select
        user_id,
        week_start,
        unnest(interruption_counts(bucket)),
        count(distinct night_of) as disrupted_nights
    from int_interruptions
    group by user_id, week_start
),

notifications as (
    select
        notified_user_id as user_id,
        cast(date_trunc('week', timezone($reporting_time_zone, created_at)) as date) as week_start,
        count(*) as total_notifications
    from stg_log_entries
    where entry_type = 'notify_log_entry' and notified_user_id is not null
        and created_at is not null
    group by all
),

acknowledgements as (
    select
        acks.user_id,
        incidents.week_start,
        count(distinct acks.incident_id) as total_incidents_acknowledged,
        coalesce(
            sum(epoch(incidents.resolved_at - acks.first_ack_at))
                filter (where incidents.resolved_at > acks.first_ack_at),
            0
        ) as total_engaged_seconds
    from int_incident_acknowledgers as acks
    join incidents on incidents.incident_id = acks.incident_id
    where incidents.week_start is not null
    group by all
),

oncall as (
    select * from int_oncall_weekly
),

-- Runs of consecutive disrupted nights: a night's position in its run, credited to the
-- week of the night's first sleep interruption.
nights as (
    select user_id, night_of, min(week_start) as week_start
    from int_interruptions
    where bucket = 'sleep'
    group by user_id, night_of
),

night_runs as (
    select
        *,
        row_number() over (partition by user_id, run_key order by night_of) as run_position
    from (
        select
            *,
            night_of - cast(row_number() over (partition by user_id order by night_of) as integer)
                as run_key
        from nights
    )
),

night_streaks as (
    select user_id, week_start, max(run_position) as max_consecutive_disrupted_nights
    from night_runs
    group by user_id, week_start
),

keys as (
    select user_id, week_start from interruptions
    union
    select user_id, week_start from notifications
    union
    select user_id, week_start from acknowledgements
    union
    select user_id, week_start from oncall
),

weekly_load as (
    select
        keys.user_id,
        users.user_name,
        users.team_id,
        keys.week_start,
        -- The interruption counts (etl/models/macros/interruption_counts.sql), 0 without any.
        coalesce(columns(i.* exclude (user_id, week_start, disrupted_nights)), 0),
        coalesce(n.total_notifications, 0) as total_notifications,
        coalesce(a.total_incidents_acknowledged, 0) as total_incidents_acknowledged,
        coalesce(a.total_engaged_seconds, 0) as total_engaged_seconds,
        coalesce(o.total_seconds_on_call, 0) as total_seconds_on_call,
        coalesce(o.total_seconds_on_call_level_1, 0) as total_seconds_on_call_level_1,
        coalesce(o.total_seconds_on_call_level_2_plus, 0) as total_seconds_on_call_level_2_plus,
        coalesce(i.disrupted_nights, 0) as disrupted_nights,
        coalesce(s.max_consecutive_disrupted_nights, 0) as max_consecutive_disrupted_nights
    from keys
    left join stg_users as users on users.user_id = keys.user_id
    left join interruptions as i on i.user_id = keys.user_id and i.week_start = keys.week_start
    left join notifications as n on n.user_id = keys.user_id and n.week_start = keys.week_start
    left join acknowledgements as a
        on a.user_id = keys.user_id and a.week_start = keys.week_start
    left join oncall as o on o.user_id = keys.user_id and o.week_start = keys.week_start
    left join night_streaks as s on s.user_id = keys.user_id and s.week_start = keys.week_start
),

-- Trailing four weeks (this week and the three before): the published bands are per month.
trailing_load as (
    select
        *,
        sum(total_off_hour_interruptions) over last_28_days as off_hour_interruptions_28d,
        sum(total_sleep_hour_interruptions) over last_28_days as sleep_interruptions_28d,
        sum(total_seconds_on_call) over last_28_days / 604800.0 as on_call_weeks_28d
    from weekly_load
    window last_28_days as (
        partition by user_id order by week_start
        range between interval 21 days preceding and current row
    )
),

components as (
    select
        *,
        off_hour_interruptions_28d + $health_sleep_weight * sleep_interruptions_28d
            as weighted_off_hours_load_28d,
        -- Per on-call week, so a long rotation is not mistaken for a bad one; less than a
        -- week on call counts as a week, so a few hours of cover do not inflate the rate.
        sleep_interruptions_28d / greatest(on_call_weeks_28d, 1.0)
            as sleep_interruptions_per_on_call_week
    from trailing_load
),

scored as (
    select
        *,
        -- Piecewise linear through the published bands: <= good 100, bad 60, burnout 20,
        -- twice burnout 0.
        case
            when weighted_off_hours_load_28d <= $health_good_monthly then 100.0
            when weighted_off_hours_load_28d <= $health_bad_monthly
                then 100.0 - 40.0 * (weighted_off_hours_load_28d - $health_good_monthly)
                    / ($health_bad_monthly - $health_good_monthly)
            when weighted_off_hours_load_28d <= $health_burnout_monthly
                then 60.0 - 40.0 * (weighted_off_hours_load_28d - $health_bad_monthly)
                    / ($health_burnout_monthly - $health_bad_monthly)
            else greatest(
                0.0,
                20.0 - 20.0 * (weighted_off_hours_load_28d - $health_burnout_monthly)
                    / $health_burnout_monthly
            )
        end as load_score,
        $health_consecutive_night_penalty
            * greatest(max_consecutive_disrupted_nights - 1, 0) as consecutive_nights_penalty
    from components
),

team_medians as (
    select
        team_id,
        week_start,
        median(sleep_interruptions_per_on_call_week) as team_median_sleep_per_on_call_week
    from scored
    where team_id is not null and on_call_weeks_28d > 0
    group by team_id, week_start
),

flagged as (
    select
        scored.*,
        team_medians.team_median_sleep_per_on_call_week,
        round(greatest(0.0, load_score - consecutive_nights_penalty), 1) as health_score,
        sleep_interruptions_28d >= $overload_min_sleep_interruptions
            and sleep_interruptions_per_on_call_week
                > $overload_team_multiplier
                    * coalesce(team_medians.team_median_sleep_per_on_call_week, 0)
            as overloaded_by_sleep,
        max_consecutive_disrupted_nights >= $overload_consecutive_nights
            as overloaded_by_nights
    from scored
    left join team_medians
        on team_medians.team_id = scored.team_id and team_medians.week_start = scored.week_start
),

final as (
    select
        user_id,
        user_name,
        team_id,
        week_start,
        total_interruptions,
        total_business_hour_interruptions,
        total_off_hour_interruptions,
        total_sleep_hour_interruptions,
        total_notifications,
        total_incidents_acknowledged,
        total_engaged_seconds,
        total_seconds_on_call,
        total_seconds_on_call_level_1,
        total_seconds_on_call_level_2_plus,
        disrupted_nights,
        max_consecutive_disrupted_nights,
        off_hour_interruptions_28d,
        sleep_interruptions_28d,
        on_call_weeks_28d,
        weighted_off_hours_load_28d,
        sleep_interruptions_per_on_call_week,
        team_median_sleep_per_on_call_week,
        load_score,
        consecutive_nights_penalty,
        health_score,
        overloaded_by_sleep or overloaded_by_nights as overloaded,
        nullif(concat_ws('; ',
            case when overloaded_by_sleep then format(
                '{:.1f} sleep interruptions per on-call week (team median {:.1f})',
                sleep_interruptions_per_on_call_week,
                coalesce(team_median_sleep_per_on_call_week, 0)
            ) end,
            case when overloaded_by_nights then format(
                '{} consecutive disrupted nights', max_consecutive_disrupted_nights
            ) end
        ), '') as overload_reason
    from flagged
)

select * from final
