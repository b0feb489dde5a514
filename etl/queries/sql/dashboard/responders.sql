-- params: start_week date, end_week date, team_ids varchar[]
-- if-absent: stg_user_teams
with weeks as (
    select * from responder_weekly
    where week_start >= $start_week and week_start <= $end_week
        and (len($team_ids) = 0 or user_id in (
            select user_id from stg_user_teams where list_contains($team_ids, team_id)))
),
latest as (
    select user_id, arg_max(health_score, week_start) as latest_health_score
    from weeks group by user_id
),
overload as (
    select user_id, count(*) as overloaded_weeks,
        arg_max(overload_reason, week_start) as last_overload_reason
    from weeks where overloaded group by user_id
),
totals as (
    select user_id, any_value(user_name) as user_name,
        sum(total_interruptions) as total_interruptions,
        sum(total_business_hour_interruptions) as total_business_hour_interruptions,
        sum(total_off_hour_interruptions) as total_off_hour_interruptions,
        sum(total_sleep_hour_interruptions) as total_sleep_hour_interruptions,
        sum(total_notifications) as total_notifications,
        sum(total_incidents_acknowledged) as total_incidents_acknowledged,
        sum(total_engaged_seconds) as total_engaged_seconds,
        sum(total_seconds_on_call) as total_seconds_on_call,
        sum(total_seconds_on_call_level_1) as total_seconds_on_call_level_1,
        sum(total_seconds_on_call_level_2_plus) as total_seconds_on_call_level_2_plus
    from weeks group by user_id
),
final as (
    select totals.*, latest.latest_health_score as health_score,
        coalesce(overload.overloaded_weeks, 0) as overloaded_weeks,
        overload.last_overload_reason as overload_reason
    from totals
    left join latest using (user_id)
    left join overload using (user_id)
)
select * from final
order by overloaded_weeks desc, total_off_hour_interruptions + total_sleep_hour_interruptions desc,
    user_name
