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

-- Each incident of the period's contacts by kind and bucket (0 where it had none).
by_bucket as (
    select
        chosen.incident_id,
        count(*) filter (where kind = 'interruption' and bucket = 'business')
            as business_hour_interruptions,
        count(*) filter (where kind = 'interruption' and bucket = 'off_hour')
            as off_hour_interruptions,
        count(*) filter (where kind = 'interruption' and bucket = 'sleep')
            as sleep_hour_interruptions,
        count(*) filter (where kind = 'notification' and bucket = 'business')
            as business_hour_notifications,
        count(*) filter (where kind = 'notification' and bucket = 'off_hour')
            as off_hour_notifications,
        count(*) filter (where kind = 'notification' and bucket = 'sleep')
            as sleep_hour_notifications
    from chosen
    left join contacts on contacts.incident_id = chosen.incident_id
    group by chosen.incident_id
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
        by_bucket.business_hour_interruptions,
        by_bucket.off_hour_interruptions,
        by_bucket.sleep_hour_interruptions,
        -- PagerDuty's alternatives, from the same entries:
        epoch(entries.first_any_ack_at - chosen.created_at) as any_agent_seconds_to_first_ack,
        epoch(chosen.resolved_at - chosen.created_at) as signed_seconds_to_resolve,
        coalesce(entries.email_notifications, 0) as email_notifications,
        by_bucket.business_hour_notifications,
        by_bucket.off_hour_notifications,
        by_bucket.sleep_hour_notifications,
        entries.last_entry_at
    from chosen
    left join entries on entries.incident_id = chosen.incident_id
    left join by_bucket on by_bucket.incident_id = chosen.incident_id
)

select * from final order by created_at, incident_id
