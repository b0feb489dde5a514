-- incremental: per incident_id of stg_log_entries
-- Per incident, everything its log entries say, in one aggregation pass over the entries:
-- the first human acknowledgement, who acknowledged, the last resolution (by time, then id)
-- and whether it was automatic, escalations and notifications.
with entries as (
    select * from stg_log_entries
    where incident_id is not null
),

final as (
    select
        incident_id,
        min(created_at) filter (where entry_type = 'acknowledge_log_entry' and is_human)
            as first_ack_at,
        count(distinct agent_id) filter (where entry_type = 'acknowledge_log_entry' and is_human)
            as acknowledged_by_user_count,
        count(distinct agent_id) filter (
            where entry_type in ('acknowledge_log_entry', 'resolve_log_entry') and is_human
        ) as responder_count,
        max(created_at) filter (where entry_type = 'resolve_log_entry') as last_resolve_at,
        arg_max(not is_human, struct_pack(created_at, log_entry_id))
            filter (where entry_type = 'resolve_log_entry') as last_resolve_is_automatic,
        count(*) filter (where entry_type = 'resolve_log_entry') as resolve_entry_count,
        count(*) filter (where entry_type = 'escalate_log_entry') as escalation_count,
        count(*) filter (where entry_type = 'notify_log_entry') as total_notifications
    from entries
    group by incident_id
)

select * from final
