-- Alert types seen during [$start_ts, $end_ts), from the alert_templates mart (counts there
-- cover the synced history; first_seen/last_seen select the ones active in the week).
-- params: start_ts timestamptz, end_ts timestamptz
-- optional: alert_templates
select *
from alert_templates
where last_seen >= $start_ts and first_seen < $end_ts
