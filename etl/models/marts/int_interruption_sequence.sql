-- incremental: per user_id of int_notifications, resumed at the last started_at before the first changed created_at
-- The sequence of interruptions (docs/metrics.md "Interruptions"); int_interruptions adds the
-- service and team of the incident each one began with (a lookup a nightly redoes for the
-- incidents that changed, without resuming their users' sequences).
-- Interrupting notifications per user in time order; one that comes at most
-- $interruption_merge_seconds after the previous one to the same user joins its interruption. An interruption has the local time and hour bucket of its first
-- notification (int_notifications, in the user's own zone).
-- One sort over all notifications gives each its predecessor and its position; only the
-- interruption starts (far fewer rows) are then sorted again to count their notifications.
-- An interruption is named by its user and first notification, so a nightly build can resume a
-- user's sequence at their last interruption before the day's changes (etl/incremental_keyed.py):
-- from any interruption's first notification on, this SQL gives the same rows.
with sequenced as (
    select
        *,
        epoch(created_at - lag(created_at) over by_user) as seconds_since_previous,
        row_number() over by_user as position,
        count(*) over (partition by user_id) as user_notifications
    from int_notifications
    window by_user as (partition by user_id order by created_at, log_entry_id)
),

starts as (
    select
        user_id,
        position,
        user_notifications,
        log_entry_id as first_log_entry_id,
        created_at as started_at,
        local_at as local_started_at,
        effective_time_zone,
        bucket,
        incident_id
    from sequenced
    where seconds_since_previous is null
        or seconds_since_previous > $interruption_merge_seconds
),

grouped as (
    select
        * exclude (position, user_notifications),
        coalesce(lead(position) over by_start, user_notifications + 1) - position
            as notification_count
    from starts
    window by_start as (partition by user_id order by position)
),

final as (
    select
        grouped.user_id || ':' || grouped.first_log_entry_id as interruption_id,
        grouped.user_id,
        grouped.started_at,
        grouped.local_started_at,
        grouped.effective_time_zone,
        grouped.bucket,
        -- The night a sleep interruption disturbs: its local date after stepping back to the
        -- previous sleep start (02:00 Tuesday and 23:00 Monday are both Monday night).
        case
            when grouped.bucket = 'sleep' then cast(
                grouped.local_started_at - to_seconds($sleep_end_seconds) as date
            )
        end as night_of,
        grouped.notification_count,
        grouped.incident_id,
        cast(date_trunc('week', timezone($reporting_time_zone, grouped.started_at)) as date)
            as week_start
    from grouped
)

select * from final
