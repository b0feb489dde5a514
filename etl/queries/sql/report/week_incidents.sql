-- The incidents created in [$start_ts, $end_ts) (for per-week template counts and checks).
-- params: start_ts timestamptz, end_ts timestamptz
select incident_id, incident_number, title, service_id, service_name, team_id, team_name,
    created_at, is_major, is_noise, auto_resolved, total_notifications
from incidents
where created_at >= $start_ts and created_at < $end_ts
order by created_at
