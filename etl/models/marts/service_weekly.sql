-- Per service and reporting week, with PagerDuty Analytics' column names
-- (docs/metrics.md "Weekly grain"); the week and its metrics are int_group_weekly's columns, in
-- its order (one list for both grains).
with final as (
    select
        weekly.group_id as service_id,
        coalesce(services.service_name, weekly.incident_group_name) as service_name,
        services.team_id,
        weekly.* exclude (grain, group_id, incident_group_name)
    from int_group_weekly as weekly
    left join stg_services as services on services.service_id = weekly.group_id
    where weekly.grain = 'service'
)

select * from final
