-- The "Now" page: incidents open at the data's end, newest first, with who is engaged on each
-- (its current assignees and whoever acknowledged it, from the incident as the API last showed
-- it) and how long it has been open at the data's end.
-- params: none
-- if-absent: stg_open_incident_engagement
with open_incidents as (
    select incident_id, incident_number, title, status, urgency, priority_name, service_name,
        team_name, created_at, html_url
    from incidents
    where status in ('triggered', 'acknowledged')
),

period as (
    select data_end from stg_data_period
),

engaged as (
    -- etl/models/staging/stg_open_incident_engagement.sql
    select incident_id, assigned_to, acknowledged_by from stg_open_incident_engagement
),

final as (
    -- Who is on it comes before the (long) title, so that it is on screen without scrolling;
    -- the title is `incident_title`, not `title`, which the dashboard's tables put first.
    select
        open_incidents.incident_number,
        open_incidents.status,
        open_incidents.urgency,
        open_incidents.priority_name,
        engaged.assigned_to,
        engaged.acknowledged_by,
        greatest(0, epoch(period.data_end - open_incidents.created_at)) as open_seconds,
        open_incidents.created_at,
        open_incidents.service_name,
        open_incidents.team_name,
        open_incidents.title as incident_title,
        case when regexp_matches(open_incidents.html_url, '^https?://[^\s]+$')
            then open_incidents.html_url end as html_url
    from open_incidents
    cross join period
    left join engaged using (incident_id)
)

select * from final
order by created_at desc
