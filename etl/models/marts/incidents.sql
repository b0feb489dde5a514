-- incremental: per incident_id of stg_incidents, int_incident_log_summary
-- incremental: every build redoes rows where resolved_at is null, for stg_data_period
-- The incidents mart: one row per raw incident with MTTA/MTTR inputs, noise and major flags.
-- Definitions: docs/metrics.md ("Per incident"). Durations before creation are NULL and the
-- row is flagged `data_issue`, never a negative number. An incident resolved by a merge keeps
-- its row (its times end at the merge) with `merged_into_incident_id` set; the incident
-- metrics (macro incident_metrics) and the noise layer leave it out.
with incidents as (
    select * from stg_incidents
),

activity as (
    select * from int_incident_log_summary
),

services as (
    select * from stg_services
),

teams as (
    select * from stg_teams
),

priorities as (
    select * from stg_priorities
),

major_priorities as (
    -- The priorities that make an incident major on their own, defined once (the weekly
    -- report's SEV section lists the same ones).
    select priority_name from int_major_priorities
),

period as (
    select * from stg_data_period
),

joined as (
    select
        incidents.incident_id,
        incidents.incident_number,
        incidents.title,
        incidents.status,
        incidents.urgency,
        incidents.priority_id,
        coalesce(priorities.priority_name, incidents.priority_summary) as priority_name,
        priorities.priority_rank,
        incidents.service_id,
        coalesce(services.service_name, incidents.service_summary) as service_name,
        coalesce(incidents.team_id, services.team_id) as team_id,
        coalesce(incidents.team_summary, teams.team_name) as team_name_fallback,
        incidents.escalation_policy_id,
        incidents.html_url,
        incidents.created_at,
        incidents.payload_resolved_at,
        incidents.alert_count,
        incidents.merged_into_incident_id,
        activity.first_ack_at,
        coalesce(activity.acknowledged_by_user_count, 0) as acknowledged_by_user_count,
        coalesce(activity.responder_count, 0) as responder_count,
        activity.last_resolve_at,
        activity.last_resolve_is_automatic,
        coalesce(activity.escalation_count, 0) as escalation_count,
        coalesce(activity.total_notifications, 0) as total_notifications
    from incidents
    left join activity on activity.incident_id = incidents.incident_id
    left join services on services.service_id = incidents.service_id
    left join priorities on priorities.priority_id = incidents.priority_id
    left join teams on teams.team_id = services.team_id
),

resolved as (
    select
        *,
        -- Only a resolved incident has a resolution time; a resolve entry on an incident that
        -- is open again does not count.
        case
            when status = 'resolved' then coalesce(last_resolve_at, payload_resolved_at)
        end as resolved_at,
        status = 'resolved' and last_resolve_at is not null
            and coalesce(last_resolve_is_automatic, false) as auto_resolved
    from joined
),

measured as (
    select
        *,
        epoch(first_ack_at - created_at) as raw_seconds_to_first_ack,
        epoch(resolved_at - created_at) as raw_seconds_to_resolve
    from resolved
),

scored as (
    select
        measured.incident_id,
        measured.incident_number,
        measured.title,
        measured.status,
        measured.urgency,
        measured.priority_id,
        measured.priority_name,
        measured.service_id,
        measured.service_name,
        measured.team_id,
        coalesce(teams.team_name, measured.team_name_fallback) as team_name,
        measured.escalation_policy_id,
        measured.html_url,
        measured.created_at,
        cast(date_trunc('week', timezone($reporting_time_zone, measured.created_at)) as date)
            as week_start,
        measured.first_ack_at,
        measured.resolved_at,
        case when raw_seconds_to_first_ack >= 0 then raw_seconds_to_first_ack end
            as seconds_to_first_ack,
        case when raw_seconds_to_resolve >= 0 then raw_seconds_to_resolve end
            as seconds_to_resolve,
        measured.auto_resolved,
        (
            coalesce(measured.priority_name in (select priority_name from major_priorities), false)
            or measured.acknowledged_by_user_count >= $major_min_acknowledging_users
        ) as is_major,
        case
            -- A merged-away incident is part of its survivor, never noise of its own.
            when measured.merged_into_incident_id is not null then null
            when measured.auto_resolved and measured.first_ack_at is null
                and raw_seconds_to_resolve <= $transient_seconds then 'transient'
            when measured.auto_resolved and measured.first_ack_at is null
                then 'auto_resolved_unacked'
        end as noise_reason,
        measured.escalation_count,
        measured.total_notifications,
        measured.alert_count,
        measured.acknowledged_by_user_count,
        measured.responder_count,
        measured.merged_into_incident_id,
        (
            measured.created_at is null
            or coalesce(raw_seconds_to_first_ack < 0, false)
            or coalesce(raw_seconds_to_resolve < 0, false)
        ) as data_issue
    from measured
    left join teams on teams.team_id = measured.team_id
),

final as (
    select
        scored.* exclude (merged_into_incident_id),
        noise_reason is not null as is_noise,
        -- A major incident still open long after it began is probably forgotten, not ongoing.
        is_major and resolved_at is null
            and epoch(period.data_end - created_at) > $stale_open_major_days * 86400
            as is_stale_open_major,
        scored.merged_into_incident_id
    from scored, period
)

select * from final
