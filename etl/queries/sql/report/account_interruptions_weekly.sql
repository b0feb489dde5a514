-- Interruptions per reporting week summed over responders (every interruption has exactly one
-- responder, so this is the account total even when an incident has no team).
-- params: first_week date, last_week date
with final as (
    select
        week_start,
        -- total_interruptions and its three hour buckets, in the mart's order, each summed.
        sum(columns('^total_.*interruptions$'))
    from responder_weekly
    where week_start >= $first_week and week_start <= $last_week
    group by week_start
)

select * from final order by week_start
