-- params: team_ids varchar[], service_ids varchar[]
-- optional: recommendations
select * from recommendations
where (len($team_ids) = 0
       or list_contains($team_ids, team_id))
    and (len($service_ids) = 0
         or list_contains($service_ids, service_id))
order by pages_saved desc nulls last, recommendation_id
