-- params: start_week date, end_week date
-- Our side of reconcile's responders comparison: responder_weekly summed over all responders
-- and the weeks in [start_week, end_week) (counts and seconds only: sums are exact).
select
    coalesce(sum(total_incidents_acknowledged), 0) as total_incidents_acknowledged,
    coalesce(sum(total_notifications), 0) as total_notifications,
    coalesce(sum(total_interruptions), 0) as total_interruptions,
    coalesce(sum(total_business_hour_interruptions), 0) as total_business_hour_interruptions,
    coalesce(sum(total_off_hour_interruptions), 0) as total_off_hour_interruptions,
    coalesce(sum(total_sleep_hour_interruptions), 0) as total_sleep_hour_interruptions,
    coalesce(sum(total_engaged_seconds), 0) as total_engaged_seconds,
    coalesce(sum(total_seconds_on_call), 0) as total_seconds_on_call,
    coalesce(sum(total_seconds_on_call_level_1), 0) as total_seconds_on_call_level_1,
    coalesce(sum(total_seconds_on_call_level_2_plus), 0) as total_seconds_on_call_level_2_plus
from responder_weekly
where week_start >= $start_week and week_start < $end_week
