-- params: none
-- optional: stale_open_majors
select incident_number, title, service_name, team_name, status, priority_name, created_at,
    seconds_open as open_seconds,
    case when regexp_matches(html_url, '^https?://[^\s]+$') then html_url end as html_url
from stale_open_majors
order by created_at
