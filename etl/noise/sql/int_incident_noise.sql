-- int_incident_noise: incident -> template, flapping flag, group and occurrence. The noise step
-- registers only the flapping or grouped incidents as noise_incident_flags (Arrow); the rest is
-- joined here. An incident's alert type is its structured identity (noise_structured_types,
-- etl/noise/alert_types.py) when its integration sent one, else its text template.
create or replace table int_incident_noise as
select
    base.incident_id,
    base.created_at,
    base.service_id,
    base.team_id,
    base.summary,
    coalesce(typed.template_id, map.template_id) as template_id,
    coalesce(typed.template, map.template) as template,
    coalesce(flags.is_flapping, false) as is_flapping,
    flags.group_id,
    flags.occurrence_id,
    base.sleep_interruptions,
    coalesce(typed.identity_source, 'text') as identity_source
from noise_incidents as base
join noise_summary_templates as map on map.summary = base.summary
left join noise_structured_types as typed on typed.incident_id = base.incident_id
left join noise_incident_flags as flags on flags.incident_id = base.incident_id
