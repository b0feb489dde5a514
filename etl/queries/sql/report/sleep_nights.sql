-- Sleep-hour interruptions per responder and night, for interruptions whose week (their first
-- notification's reporting week) is the report week. Reads the interruptions model, which
-- carries the night each sleep interruption disturbs.
-- params: week_start date
-- optional: int_interruptions
with sleep as (
    select user_id, night_of
    from int_interruptions
    where bucket = 'sleep' and week_start = $week_start
),

names as (
    select user_id, any_value(user_name) as user_name
    from responder_weekly
    group by user_id
),

final as (
    select
        sleep.user_id,
        coalesce(names.user_name, sleep.user_id) as user_name,
        sleep.night_of,
        count(*) as sleep_interruptions
    from sleep
    left join names on names.user_id = sleep.user_id
    group by all
)

select * from final order by user_name, night_of
