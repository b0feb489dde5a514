-- params: service_ids varchar[], team_ids varchar[]
-- optional: alert_templates
select * from alert_templates
where in_selection($service_ids, service_id)
    and (len($team_ids) = 0 or service_id in (
        select distinct service_id from incidents
        where list_contains($team_ids, team_id)))
