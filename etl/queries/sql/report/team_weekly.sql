-- team_weekly for the report week and the week before, for the "what got worse" comparison.
-- params: week_start date, previous_week_start date
select *
from team_weekly
where week_start in ($week_start, $previous_week_start)
