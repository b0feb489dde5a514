-- incremental: per incident_id of stg_log_entries
-- Per incident and person: their first human acknowledgement (for engaged time and
-- per-responder acknowledgement counts).
with acks as (
    select incident_id, agent_id as user_id, created_at
    from stg_log_entries
    where entry_type = 'acknowledge_log_entry' and is_human and agent_id is not null
        and incident_id is not null
),

final as (
    select incident_id, user_id, min(created_at) as first_ack_at
    from acks
    group by incident_id, user_id
)

select * from final
