select * from alert_templates
where (len(cast($service_ids as varchar[])) = 0
       or list_contains(cast($service_ids as varchar[]), service_id))
    and (len(cast($team_ids as varchar[])) = 0 or service_id in (
        select distinct service_id from incidents
        where list_contains(cast($team_ids as varchar[]), team_id)))
