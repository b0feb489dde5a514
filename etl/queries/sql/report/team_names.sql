-- Team names by id, as the incidents mart knows them (responder_weekly carries only team_id).
-- params: none
select team_id, any_value(team_name) as team_name
from incidents
where team_id is not null
group by team_id
