-- incremental: per incident_id of incidents, stg_log_entries, int_incident_sleep_interruptions
-- One row per incident with its alert summary, owning team and sleep-hour interruptions: the
-- input of the noise step (etl/noise/marts.py), a model of the noise layer.
-- Summary: the trigger log entry's `channel.summary` (the triggering event's summary, which is
-- the first alert's), else the incident title; incidents whose trigger entry carries no
-- summary (overview-only `*_reference` entries) get their first alert's summary afterwards
-- (etl/noise/sql/fill_alert_summaries.sql), so the alerts' JSON is parsed only when needed.
-- Owning team: the service's first team, else its escalation policy's first team, else the
-- incident's team. Incidents merged into another are left out: the survivor stands for them.
-- Details: the first trigger entry whose `channel.details` is a JSON object, by its log entry
-- and the details' hash (the text is read only for details the noise step has not seen:
-- etl/noise/alert_types.py); found here in the same pass over the trigger entries, so a
-- nightly finds them for the changed incidents only.
with trigger_entry as (
    select
        incident_id,
        arg_min(trigger_summary, struct_pack(created_at, log_entry_id))
            filter (where trigger_summary is not null) as trigger_summary,
        arg_min(
            struct_pack(log_entry_id := log_entry_id, details_hash := trigger_details_hash),
            struct_pack(created_at := created_at, log_entry_id := log_entry_id)
        ) filter (where trigger_details_hash is not null) as details
    from stg_log_entries
    where
        entry_type = 'trigger_log_entry'
        and (trigger_summary is not null or trigger_details_hash is not null)
    group by incident_id
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

sleep_pages as (
    select * from int_incident_sleep_interruptions
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
        incidents.escalation_policy_id,
        coalesce(service_owner.owner_team_id, incidents.team_id) as team_id,
        coalesce(
            json_extract_string(teams.payload, '$.name'),
            json_extract_string(teams.payload, '$.summary'),
            incidents.team_name
        ) as team_name,
        incidents.html_url,
        coalesce(trigger_entry.trigger_summary, incidents.title, '') as summary,
        trigger_entry.trigger_summary is not null as has_event_summary,
        coalesce(sleep_pages.sleep_interruptions, 0) as sleep_interruptions,
        trigger_entry.details.log_entry_id as details_log_entry_id,
        trigger_entry.details.details_hash
    from incidents
    left join trigger_entry on trigger_entry.incident_id = incidents.incident_id
    left join service_owner on service_owner.service_id = incidents.service_id
    left join raw_teams as teams
        on teams.id = coalesce(service_owner.owner_team_id, incidents.team_id)
    left join sleep_pages on sleep_pages.incident_id = incidents.incident_id
    -- A merged-away incident's alerts are its survivor's now (docs/metrics.md "Merged incidents").
    where incidents.merged_into_incident_id is null
)

select * from final
