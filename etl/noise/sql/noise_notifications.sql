-- The notifications of the incidents created in the replay period (created_at > $replay_start):
-- the input of the recommendation replay (etl/noise/replay.py Replay). `interrupts`: an interrupting
-- notification type (pages); `in_interruptions` and `is_sleep`: the row is in int_notifications
-- (interrupting, to a known user) and its local time is in sleep hours, so an interruption it
-- opens is a sleep interruption (docs/metrics.md "Interruptions").
with window_incidents as (
    select incident_id from incidents where created_at > $replay_start
),

final as (
    select
        log.log_entry_id,
        log.incident_id,
        log.notified_user_id as user_id,
        log.created_at,
        list_contains($interruption_notification_types, log.notification_type) as interrupts,
        pages.log_entry_id is not null as in_interruptions,
        coalesce(pages.bucket = 'sleep', false) as is_sleep
    from stg_log_entries as log
    semi join window_incidents on window_incidents.incident_id = log.incident_id
    left join int_notifications as pages on pages.log_entry_id = log.log_entry_id
    where log.entry_type = 'notify_log_entry' and log.created_at is not null
)

select * from final
