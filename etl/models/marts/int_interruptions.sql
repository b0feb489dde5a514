-- Interruptions (docs/metrics.md "Interruptions"): interrupting notifications per user in time
-- order; one that comes at most $interruption_merge_seconds after the previous one to the same
-- user joins its interruption. Bucketed by the local time of the first notification in the
-- user's own zone; sleep wins over business and off-hours.
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

-- One sort over all notifications gives each its predecessor and its position; only the
-- interruption starts (far fewer rows) are then sorted again to count their notifications.
sequenced as (
    select
        *,
        epoch(created_at - lag(created_at) over by_user) as seconds_since_previous,
        row_number() over by_user as position,
        count(*) over (partition by user_id) as user_notifications
    from notifications
    window by_user as (partition by user_id order by created_at, log_entry_id)
),

starts as (
    select user_id, position, user_notifications, created_at as started_at, incident_id
    from sequenced
    where seconds_since_previous is null
        or seconds_since_previous > $interruption_merge_seconds
),

grouped as (
    select
        user_id,
        row_number() over by_start as interruption_number,
        started_at,
        incident_id,
        coalesce(lead(position) over by_start, user_notifications + 1) - position
            as notification_count
    from starts
    window by_start as (partition by user_id order by position)
),

localized as (
    select
        grouped.*,
        users.effective_time_zone,
        timezone(coalesce(users.effective_time_zone, $account_time_zone), grouped.started_at)
            as local_started_at
    from grouped
    left join stg_users as users on users.user_id = grouped.user_id
),

bucketed as (
    select
        *,
        extract(epoch from cast(local_started_at as time)) as local_second_of_day,
        isodow(local_started_at) as local_iso_dow
    from localized
),

classified as (
    select
        *,
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
),

final as (
    select
        classified.user_id || ':' || cast(classified.interruption_number as varchar)
            as interruption_id,
        classified.user_id,
        classified.started_at,
        classified.local_started_at,
        classified.effective_time_zone,
        classified.bucket,
        -- The night a sleep interruption disturbs: its local date after stepping back to the
        -- previous sleep start (02:00 Tuesday and 23:00 Monday are both Monday night).
        case
            when classified.bucket = 'sleep' then cast(
                classified.local_started_at - to_seconds($sleep_end_seconds) as date
            )
        end as night_of,
        classified.notification_count,
        classified.incident_id,
        incidents.service_id,
        incidents.team_id,
        cast(date_trunc('week', timezone($reporting_time_zone, classified.started_at)) as date)
            as week_start
    from classified
    left join incidents on incidents.incident_id = classified.incident_id
)

select * from final
