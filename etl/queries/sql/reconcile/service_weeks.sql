-- params: start_week date, end_week date
-- Our side of reconcile's service x week comparison: the service_weekly mart's figures that
-- PagerDuty's /analytics/metrics/incidents/services also reports (weeks with incidents).
select
    service_id,
    service_name,
    week_start,
    total_incident_count,
    total_incidents_acknowledged,
    total_incidents_auto_resolved,
    mean_seconds_to_first_ack,
    mean_seconds_to_resolve,
    total_escalation_count,
    total_notifications,
    total_interruptions,
    total_business_hour_interruptions,
    total_off_hour_interruptions,
    total_sleep_hour_interruptions,
    up_time_pct
from service_weekly
where week_start >= $start_week and week_start < $end_week and total_incident_count > 0
order by service_id, week_start
