-- params: team_ids varchar[], service_ids varchar[]
-- optional: recommendations
select * from recommendations
where in_selection($team_ids, team_id)
    and in_selection($service_ids, service_id)
order by pages_saved desc nulls last, recommendation_id
