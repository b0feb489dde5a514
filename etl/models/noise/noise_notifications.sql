-- Notifications (notify log entries) with their user and the user's time zone: the input of
-- the interruption replay (docs/metrics.md "Interruptions", recomputed with and without a
-- recommended change).
with notify as (
    select
        id as log_entry_id,
        json_extract_string(payload, '$.incident.id') as incident_id,
        coalesce(
            json_extract_string(payload, '$.user.id'),
            json_extract_string(payload, '$.channel.notification.user.id')
        ) as user_id,
        try_cast(json_extract_string(payload, '$.created_at') as timestamptz) as created_at,
        json_extract_string(payload, '$.channel.notification.type') as notification_type
    from raw_log_entries
    where json_extract_string(payload, '$.type') in ('notify_log_entry', 'notify_log_entry_reference')
),

final as (
    select
        notify.*,
        list_contains($interruption_notification_types, notify.notification_type)
            as interrupts,
        coalesce(json_extract_string(users.payload, '$.time_zone'), $account_time_zone)
            as time_zone
    from notify
    left join raw_users as users on users.id = notify.user_id
    where notify.created_at is not null
)

select * from final
