-- One row per incident with its alert summary and owning team, the input of the noise marts.
-- Summary: the first alert's `summary` (raw_alerts) where fetched, else the trigger log entry's
-- `channel.summary`, else the incident title. Owning team: the service's first team, else its
-- escalation policy's first team, else the incident's team.
with first_alert as (
    select
        json_extract_string(payload, '$.incident.id') as incident_id,
        arg_min(
            json_extract_string(payload, '$.summary'),
            struct_pack(created_at := json_extract_string(payload, '$.created_at'), alert_id := id)
        ) as alert_summary
    from raw_alerts
    where json_extract_string(payload, '$.summary') is not null
    group by 1
),

trigger_entry as (
    select
        json_extract_string(payload, '$.incident.id') as incident_id,
        arg_min(
            json_extract_string(payload, '$.channel.summary'),
            struct_pack(created_at := json_extract_string(payload, '$.created_at'), entry_id := id)
        ) as trigger_summary
    from raw_log_entries
    where json_extract_string(payload, '$.type') in ('trigger_log_entry', 'trigger_log_entry_reference')
        and json_extract_string(payload, '$.channel.summary') is not null
    group by 1
),

service_owner as (
    select
        services.id as service_id,
        coalesce(
            json_extract_string(services.payload, '$.teams[0].id'),
            json_extract_string(policies.payload, '$.teams[0].id')
        ) as owner_team_id
    from raw_services as services
    left join raw_escalation_policies as policies
        on policies.id = json_extract_string(services.payload, '$.escalation_policy.id')
),

final as (
    select
        incidents.incident_id,
        incidents.created_at,
        incidents.resolved_at,
        incidents.first_ack_at,
        incidents.seconds_to_resolve,
        incidents.auto_resolved,
        incidents.is_major,
        incidents.noise_reason,
        incidents.total_notifications,
        coalesce(incidents.alert_count, 1) as alert_count,
        incidents.service_id,
        incidents.service_name,
        coalesce(service_owner.owner_team_id, incidents.team_id) as team_id,
        coalesce(
            json_extract_string(teams.payload, '$.name'),
            json_extract_string(teams.payload, '$.summary'),
            incidents.team_name
        ) as team_name,
        incidents.html_url,
        coalesce(first_alert.alert_summary, trigger_entry.trigger_summary, incidents.title, '')
            as summary
    from incidents
    left join first_alert on first_alert.incident_id = incidents.incident_id
    left join trigger_entry on trigger_entry.incident_id = incidents.incident_id
    left join service_owner on service_owner.service_id = incidents.service_id
    left join raw_teams as teams
        on teams.id = coalesce(service_owner.owner_team_id, incidents.team_id)
)

select * from final
