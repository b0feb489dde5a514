-- The week's incidents of the major priorities (int_major_incidents), most severe priority
-- first, then the longest first (an open one counts to the end of the data), each with who
-- responded (acknowledged or resolved it as a person: int_incident_responders).
-- params: week_start date
-- optional: int_major_incidents
with week_incidents as (
    select * from int_major_incidents where week_start = $week_start
),

who as (
    select
        responders.incident_id,
        string_agg(coalesce(users.user_name, responders.user_id), ', '
            order by responders.first_response_at, responders.user_id) as responders
    from int_incident_responders as responders
    left join stg_users as users on users.user_id = responders.user_id
    where responders.incident_id in (select incident_id from week_incidents)
    group by responders.incident_id
),

final as (
    select
        week_incidents.sev_rank,
        week_incidents.priority_id,
        week_incidents.priority_name,
        week_incidents.incident_id,
        week_incidents.incident_number,
        week_incidents.title,
        week_incidents.service_id,
        week_incidents.service_name,
        week_incidents.team_name,
        week_incidents.status,
        week_incidents.urgency,
        week_incidents.created_at,
        week_incidents.resolved_at,
        week_incidents.seconds_to_first_ack,
        week_incidents.seconds_to_resolve,
        week_incidents.open_seconds,
        who.responders,
        case when regexp_matches(week_incidents.html_url, '^https?://[^\s]+$')
            then week_incidents.html_url end as html_url
    from week_incidents
    left join who using (incident_id)
)

select * from final
order by sev_rank, coalesce(open_seconds, seconds_to_resolve) desc nulls last, incident_number
