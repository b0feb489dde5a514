-- Per service or per team (`$grain`) over the filtered range: MTTA/MTTR, counts, noise
-- ratio, interruptions and up-time. dashboard/data.py names the group column and keeps the
-- columns of the grain. The incident metrics are the models' own macro
-- (etl/models/macros/incident_metrics.sql) over the filtered incidents.
-- params: start_ts timestamptz, end_ts timestamptz, team_ids varchar[], service_ids varchar[], urgencies varchar[], priority_ids varchar[], custom_field varchar, custom_values varchar[], grain varchar, week_count bigint, start_week date, end_week date
-- if-absent: incident_custom_fields
with filtered as (
    select *
    from incidents
    where selected_incident($start_ts, $end_ts, $team_ids, $service_ids, $urgencies, $priority_ids,
        $custom_field, $custom_values)
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
        unnest(incident_metrics(filtered))
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
