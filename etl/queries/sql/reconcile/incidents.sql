-- params: start_ts timestamptz, end_ts timestamptz
-- Our side of `pagerlens reconcile`, one row per incident created in [start_ts, end_ts):
-- the incidents mart's figures next to what PagerDuty's own rules would give from the same
-- log entries (the evidence behind each named reason of docs/metrics.md "Reconciliation").
with chosen as (
    select * from incidents
    where created_at >= $start_ts and created_at < $end_ts
),

entries as (
    select
        log.incident_id,
        min(log.created_at) filter (where log.entry_type = 'acknowledge_log_entry')
            as first_any_ack_at,
        count(*) filter (
            where log.entry_type = 'notify_log_entry'
                and log.notification_type = 'email_notification'
        ) as email_notifications,
        max(log.created_at) as last_entry_at
    from stg_log_entries as log
    where log.incident_id in (select incident_id from chosen)
    group by log.incident_id
),

-- Interruptions and notifications alike, each with the hour bucket the marts gave it.
contacts as (
    select incident_id, 'interruption' as kind, bucket from int_interruptions
    union all
    select incident_id, 'notification' as kind, bucket from int_notifications
),

by_bucket as (
    select
        incident_id,
        kind,
        count(*) filter (where bucket = 'business') as business_hour,
        count(*) filter (where bucket = 'off_hour') as off_hour,
        count(*) filter (where bucket = 'sleep') as sleep_hour
    from contacts
    where incident_id in (select incident_id from chosen)
    group by incident_id, kind
),

final as (
    select
        chosen.incident_id,
        chosen.service_id,
        chosen.created_at,
        chosen.week_start,
        chosen.first_ack_at,
        chosen.resolved_at,
        chosen.seconds_to_first_ack,
        chosen.seconds_to_resolve,
        chosen.auto_resolved,
        chosen.is_major as major,
        chosen.escalation_count,
        chosen.total_notifications,
        chosen.data_issue,
        chosen.merged_into_incident_id,
        coalesce(interruptions.business_hour, 0) as business_hour_interruptions,
        coalesce(interruptions.off_hour, 0) as off_hour_interruptions,
        coalesce(interruptions.sleep_hour, 0) as sleep_hour_interruptions,
        -- PagerDuty's alternatives, from the same entries:
        epoch(entries.first_any_ack_at - chosen.created_at) as any_agent_seconds_to_first_ack,
        epoch(chosen.resolved_at - chosen.created_at) as signed_seconds_to_resolve,
        coalesce(entries.email_notifications, 0) as email_notifications,
        coalesce(notifications.business_hour, 0) as business_hour_notifications,
        coalesce(notifications.off_hour, 0) as off_hour_notifications,
        coalesce(notifications.sleep_hour, 0) as sleep_hour_notifications,
        entries.last_entry_at
    from chosen
    left join entries on entries.incident_id = chosen.incident_id
    left join by_bucket as interruptions
        on interruptions.incident_id = chosen.incident_id and interruptions.kind = 'interruption'
    left join by_bucket as notifications
        on notifications.incident_id = chosen.incident_id and notifications.kind = 'notification'
)

select * from final order by created_at, incident_id
