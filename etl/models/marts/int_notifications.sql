-- incremental: per log_entry_id of stg_log_entries
-- Interrupting notifications (docs/metrics.md "Interruptions"): one row per notify log entry of
-- an interrupting type (phone, SMS, push by default) to a known user, with the local time in
-- the user's own zone and the hour bucket that time falls in; sleep wins over business and
-- off-hours. An interruption takes the bucket of its first notification (int_interruptions);
-- the noise replay (etl/noise.py) recomputes interruptions from these rows with a change
-- applied, so the bucket rule lives here once. The ids are unique strings, stored with zstd
-- (stg_log_entries says why).
-- compression: log_entry_id zstd
with notifications as (
    select
        log.log_entry_id,
        log.notified_user_id as user_id,
        log.incident_id,
        log.created_at
    from stg_log_entries as log
    where log.entry_type = 'notify_log_entry'
        and log.notified_user_id is not null
        and log.created_at is not null
        and list_contains($interruption_notification_types, log.notification_type)
),

localized as (
    select
        notifications.*,
        users.effective_time_zone,
        timezone(coalesce(users.effective_time_zone, $account_time_zone), notifications.created_at)
            as local_at
    from notifications
    left join stg_users as users on users.user_id = notifications.user_id
),

bucketed as (
    select
        *,
        extract(epoch from cast(local_at as time)) as local_second_of_day,
        isodow(local_at) as local_iso_dow
    from localized
),

final as (
    select
        log_entry_id,
        user_id,
        incident_id,
        created_at,
        effective_time_zone,
        local_at,
        case
            when (
                $sleep_start_seconds > $sleep_end_seconds
                and (local_second_of_day >= $sleep_start_seconds
                    or local_second_of_day < $sleep_end_seconds)
            ) or (
                $sleep_start_seconds < $sleep_end_seconds
                and local_second_of_day >= $sleep_start_seconds
                and local_second_of_day < $sleep_end_seconds
            ) then 'sleep'
            when local_iso_dow <= 5
                and local_second_of_day >= $business_start_seconds
                and local_second_of_day < $business_end_seconds then 'business'
            else 'off_hour'
        end as bucket
    from bucketed
)

select * from final
