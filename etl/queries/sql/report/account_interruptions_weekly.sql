-- Interruptions per reporting week summed over responders (every interruption has exactly one
-- responder, so this is the account total even when an incident has no team).
-- params: first_week date, last_week date
with final as (
    select
        week_start,
        sum(total_interruptions) as total_interruptions,
        sum(total_business_hour_interruptions) as total_business_hour_interruptions,
        sum(total_off_hour_interruptions) as total_off_hour_interruptions,
        sum(total_sleep_hour_interruptions) as total_sleep_hour_interruptions
    from responder_weekly
    where week_start >= $first_week and week_start <= $last_week
    group by week_start
)

select * from final order by week_start
