-- Hour of week in the responder's own time zone (local_started_at is already local).
-- params: start_ts timestamptz, end_ts timestamptz, team_ids varchar[], service_ids varchar[], user_ids varchar[]
-- optional: int_interruptions
with filtered as (
    select local_started_at
    from int_interruptions
    where started_at >= $start_ts and started_at < $end_ts
        and in_selection($team_ids, team_id)
        and in_selection($service_ids, service_id)
        and in_selection($user_ids, user_id)
),
final as (
    select cast(isodow(local_started_at) as integer) as iso_dow,
        cast(hour(local_started_at) as integer) as hour,
        count(*) as interruptions
    from filtered
    group by all
)
select * from final order by iso_dow, hour
