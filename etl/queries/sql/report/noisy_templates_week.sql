-- Alert types by the incidents they opened in [$start_ts, $end_ts): the noise model's
-- incident -> template mapping (int_incident_noise) joined to the incidents mart for the week's
-- figures, and to alert_templates for the history-wide ones (shares over the synced history).
-- params: start_ts timestamptz, end_ts timestamptz
-- optional: int_incident_noise
with week as (
    select
        noise.template_id,
        noise.service_id,
        any_value(noise.template) as week_template,
        count(*) as incidents_this_week,
        count(*) filter (where incidents.is_noise) as noise_incidents_this_week,
        coalesce(sum(incidents.total_notifications), 0) as notifications_this_week,
        coalesce(sum(noise.sleep_interruptions), 0) as sleep_interruptions_this_week
    from int_incident_noise as noise
    join incidents on incidents.incident_id = noise.incident_id
    where noise.created_at >= $start_ts and noise.created_at < $end_ts
    group by noise.template_id, noise.service_id
),

final as (
    select
        templates.* exclude (template, service_id, service_name),
        week.template_id,
        coalesce(templates.template, week.week_template) as template,
        week.service_id,
        coalesce(templates.service_name, services.service_name) as service_name,
        week.incidents_this_week,
        week.noise_incidents_this_week,
        week.notifications_this_week,
        week.sleep_interruptions_this_week
    from week
    left join alert_templates as templates
        on templates.template_id = week.template_id and templates.service_id = week.service_id
    left join (
        select service_id, any_value(service_name) as service_name
        from incidents group by service_id
    ) as services on services.service_id = week.service_id
)

select * from final
order by incidents_this_week desc, notifications_this_week desc, template
