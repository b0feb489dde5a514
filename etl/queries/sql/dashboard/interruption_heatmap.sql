-- Hour of week in the responder's own time zone (local_started_at is already local).
with filtered as (
    select local_started_at
    from int_interruptions
    where started_at >= $start_ts and started_at < $end_ts
        and (len(cast($team_ids as varchar[])) = 0
             or list_contains(cast($team_ids as varchar[]), team_id))
        and (len(cast($service_ids as varchar[])) = 0
             or list_contains(cast($service_ids as varchar[]), service_id))
        and (len(cast($user_ids as varchar[])) = 0
             or list_contains(cast($user_ids as varchar[]), user_id))
),
final as (
    select cast(isodow(local_started_at) as integer) as iso_dow,
        cast(hour(local_started_at) as integer) as hour,
        count(*) as interruptions
    from filtered
    group by all
)
select * from final order by iso_dow, hour
