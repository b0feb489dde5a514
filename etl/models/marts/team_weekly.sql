-- Per team and reporting week, same columns and rules as service_weekly; an incident belongs
-- to its first team, else to its service's team. up_time_pct uses the team's impact windows
-- (the union over its services' major incidents). The week and its metrics: int_group_weekly's
-- columns, in its order.
with final as (
    select
        weekly.group_id as team_id,
        coalesce(teams.team_name, weekly.incident_group_name) as team_name,
        weekly.* exclude (grain, group_id, incident_group_name)
    from int_group_weekly as weekly
    left join stg_teams as teams on teams.team_id = weekly.group_id
    where weekly.grain = 'team'
)

select * from final
