-- incremental: per raw_incidents row, keyed by incident_id
-- One row per raw incident: the JSON payload parsed once into typed columns.
-- Team: the incident's first team, else (in the mart) the service's first team.
-- merged_into_incident_id: docs/metrics.md "merged_into_incident_id".
with parsed as (
    select
        id,
        json_extract_string(payload, [
            '$.incident_number',
            '$.title',
            '$.status',
            '$.urgency',
            '$.created_at',
            '$.resolved_at',
            '$.service.id',
            '$.service.summary',
            '$.escalation_policy.id',
            '$.priority.id',
            '$.priority.summary',
            '$.teams[0].id',
            '$.teams[0].summary',
            '$.html_url',
            '$.alert_counts.all',
            '$.resolve_reason.type',
            '$.resolve_reason.incident.id',
            '$.custom_fields'
        ]) as f
    from raw_incidents
),

final as (
    select
        id as incident_id,
        try_cast(f[1] as bigint) as incident_number,
        f[2] as title,
        f[3] as status,
        f[4] as urgency,
        try_cast(f[5] as timestamptz) as created_at,
        try_cast(f[6] as timestamptz) as payload_resolved_at,
        f[7] as service_id,
        f[8] as service_summary,
        f[9] as escalation_policy_id,
        f[10] as priority_id,
        f[11] as priority_summary,
        f[12] as team_id,
        f[13] as team_summary,
        f[14] as html_url,
        try_cast(f[15] as bigint) as alert_count,
        -- Resolved by a merge into another incident (PagerDuty's only resolve_reason):
        -- the surviving incident, which now holds this incident's alerts.
        case when f[16] = 'merge_resolve_reason' then f[17] end as merged_into_incident_id,
        -- The incident object's own custom fields (JSON), when the stored payload has them:
        -- incident_custom_fields reads them here, not in the raw JSON of every incident.
        case when json_type(f[18]) = 'ARRAY' then cast(f[18] as json) end as custom_fields
    from parsed
)

select * from final
