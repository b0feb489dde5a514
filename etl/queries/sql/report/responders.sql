-- Responder load and health for the report week and the week before (all columns: the mart may
-- carry more than the contract's, such as team_id and the health score's components).
select *
from responder_weekly
where week_start in ($week_start, $previous_week_start)
