-- Responder load and health for the report week and the week before (all columns: the mart may
-- carry more than the contract's, such as team_id and the health score's components).
-- params: week_start date, previous_week_start date
select *
from responder_weekly
where week_start in ($week_start, $previous_week_start)
