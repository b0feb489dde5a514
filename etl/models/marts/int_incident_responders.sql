-- incremental: per incident_id of stg_log_entries
-- Per incident and person: who responded, i.e. acknowledged or resolved it as a person (the
-- people `responder_count` counts; notified-only users did not respond). For the weekly
-- report's "who responded" of the major priorities (docs/metrics.md `sev_responders`).
with responses as (
    select incident_id, agent_id as user_id, entry_type, created_at
    from stg_log_entries
    where entry_type in ('acknowledge_log_entry', 'resolve_log_entry') and is_human
        and agent_id is not null and incident_id is not null
),

final as (
    select
        incident_id,
        user_id,
        min(created_at) as first_response_at,
        bool_or(entry_type = 'acknowledge_log_entry') as acknowledged,
        bool_or(entry_type = 'resolve_log_entry') as resolved
    from responses
    group by incident_id, user_id
)

select * from final
