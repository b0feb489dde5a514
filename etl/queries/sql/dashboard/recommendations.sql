select * from recommendations
where (len(cast($team_ids as varchar[])) = 0
       or list_contains(cast($team_ids as varchar[]), team_id))
    and (len(cast($service_ids as varchar[])) = 0
         or list_contains(cast($service_ids as varchar[]), service_id))
order by pages_saved desc nulls last, recommendation_id
