-- Per service or per team (`$grain`) over the filtered range: MTTA/MTTR, counts, noise
-- ratio, interruptions and up-time. The wrappers in etl/queries/dashboard.py name the group
-- column and keep the columns of their grain.
with filtered as (
    select * from incidents where created_at >= $start_ts and created_at < $end_ts
        and (len(cast($team_ids as varchar[])) = 0
             or list_contains(cast($team_ids as varchar[]), team_id))
        and (len(cast($service_ids as varchar[])) = 0
             or list_contains(cast($service_ids as varchar[]), service_id))
        and (len(cast($urgencies as varchar[])) = 0
             or list_contains(cast($urgencies as varchar[]), urgency))
),
per_group as (
    select
        case when $grain = 'service' then service_id else team_id end as group_id,
        any_value(case when $grain = 'service' then service_name else team_name end)
            as group_name,
        any_value(service_name) as service_name,
        any_value(team_id) as team_id,
        any_value(team_name) as team_name,
        count(distinct service_id) as service_count,
        count(*) as total_incident_count,
            count(first_ack_at) as total_incidents_acknowledged,
            count(*) filter (where auto_resolved) as total_incidents_auto_resolved,
            avg(seconds_to_first_ack) as mean_seconds_to_first_ack,
            quantile_cont(seconds_to_first_ack, 0.5) as p50_seconds_to_first_ack,
            quantile_cont(seconds_to_first_ack, 0.9) as p90_seconds_to_first_ack,
            avg(seconds_to_resolve) as mean_seconds_to_resolve,
            quantile_cont(seconds_to_resolve, 0.5) as p50_seconds_to_resolve,
            quantile_cont(seconds_to_resolve, 0.9) as p90_seconds_to_resolve,
            coalesce(sum(escalation_count), 0) as total_escalation_count,
            coalesce(sum(total_notifications), 0) as total_notifications,
            count(*) filter (where is_major) as total_major_incidents,
            avg(case when is_noise then 1.0 else 0.0 end) as noise_ratio
    from filtered
    group by group_id
),
weekly_rows as (
    select 'service' as grain, service_id as group_id, week_start, total_interruptions,
        total_sleep_hour_interruptions, up_time_pct
    from service_weekly
    union all
    select 'team' as grain, team_id as group_id, week_start, total_interruptions,
        total_sleep_hour_interruptions, up_time_pct
    from team_weekly
),
weekly as (
    select group_id,
        sum(total_interruptions) as total_interruptions,
        sum(total_sleep_hour_interruptions) as total_sleep_hour_interruptions,
        -- Weeks without a row had no impact: count them at 100 %.
        100 - sum(100 - coalesce(up_time_pct, 100)) / $week_count as up_time_pct
    from weekly_rows
    where grain = $grain and week_start >= $start_week and week_start <= $end_week
    group by group_id
),
final as (
    select per_group.*, coalesce(weekly.total_interruptions, 0) as total_interruptions,
        coalesce(weekly.total_sleep_hour_interruptions, 0) as total_sleep_hour_interruptions,
        coalesce(weekly.up_time_pct, 100) as up_time_pct
    from per_group
    left join weekly using (group_id)
)
select * from final order by total_incident_count desc, group_name
