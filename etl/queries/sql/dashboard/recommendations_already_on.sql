-- params: team_ids varchar[], service_ids varchar[]
-- optional: recommendations_already_on
select
    kind,
    team_name,
    service_name,
    template,
    configured,
    proposed,
    evidence
from recommendations_already_on
where in_selection($team_ids, team_id)
    and in_selection($service_ids, service_id)
order by team_name, kind, service_name, template
