-- Interruptions are attributed to the service and team of the notification's incident, so they
-- come from the weekly marts (urgency does not apply: the marts do not split by it).
-- params: start_week date, end_week date, team_ids varchar[], service_ids varchar[]
select
    week_start,
    sum(total_interruptions) as total_interruptions,
    sum(total_business_hour_interruptions) as total_business_hour_interruptions,
    sum(total_off_hour_interruptions) as total_off_hour_interruptions,
    sum(total_sleep_hour_interruptions) as total_sleep_hour_interruptions
from service_weekly
where week_start >= $start_week and week_start <= $end_week
    and (len($team_ids) = 0 or service_id in (
        select distinct service_id from incidents
        where list_contains($team_ids, team_id)))
    and in_selection($service_ids, service_id)
group by week_start
order by week_start
