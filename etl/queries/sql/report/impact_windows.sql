-- Impact windows (per service and account-wide) overlapping [$start_ts, $end_ts), with the
-- service's name.
-- params: end_ts timestamptz, start_ts timestamptz
with services as (
    select service_id, any_value(service_name) as service_name
    from incidents
    group by service_id
),

final as (
    select
        windows.scope,
        windows.service_id,
        services.service_name,
        windows.window_start,
        windows.window_end,
        windows.duration_seconds,
        windows.incident_ids
    from impact_windows as windows
    left join services on services.service_id = windows.service_id
    where windows.window_start < $end_ts and windows.window_end > $start_ts
)

select * from final order by scope, window_start, service_name
