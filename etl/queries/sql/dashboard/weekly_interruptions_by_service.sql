-- Interruptions are attributed to the service and team of the notification's incident, so they
-- come from the weekly marts (urgency does not apply: the marts do not split by it).
-- params: start_week date, end_week date, team_ids varchar[], service_ids varchar[]
select
    week_start,
    -- total_interruptions and its three hour buckets, in the mart's order, each summed.
    sum(columns('^total_.*interruptions$'))
from service_weekly
where week_start >= $start_week and week_start <= $end_week
    and (len($team_ids) = 0 or service_id in (
        select distinct service_id from incidents
        where list_contains($team_ids, team_id)))
    and in_selection($service_ids, service_id)
group by week_start
order by week_start
