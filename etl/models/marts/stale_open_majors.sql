-- Major incidents still open more than $stale_open_major_days days before the end of the data:
-- they keep an impact window open to the end of the data, so the report and dashboard warn.
with period as (
    select * from stg_data_period
),

final as (
    select
        incidents.incident_id,
        incidents.incident_number,
        incidents.title,
        incidents.service_id,
        incidents.service_name,
        incidents.team_id,
        incidents.team_name,
        incidents.status,
        incidents.priority_name,
        incidents.created_at,
        epoch(period.data_end - incidents.created_at) as seconds_open,
        incidents.html_url
    from incidents, period
    where incidents.is_stale_open_major
)

select * from final
