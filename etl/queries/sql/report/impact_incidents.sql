-- The incidents behind the account-wide impact windows overlapping [$start_ts, $end_ts).
-- params: end_ts timestamptz, start_ts timestamptz
with windows as (
    select window_start, unnest(incident_ids) as incident_id
    from impact_windows
    where scope = 'account' and window_start < $end_ts and window_end > $start_ts
),

final as (
    select
        windows.window_start,
        incidents.incident_id,
        incidents.incident_number,
        incidents.title,
        incidents.service_name,
        incidents.team_name,
        incidents.priority_name,
        incidents.status,
        incidents.created_at,
        incidents.resolved_at,
        incidents.seconds_to_resolve,
        incidents.html_url
    from windows
    join incidents on incidents.incident_id = windows.incident_id
)

select * from final order by window_start, created_at, incident_number
