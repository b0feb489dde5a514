-- params: end_ts timestamptz, start_ts timestamptz, service_ids varchar[]
-- optional: impact_windows
with final as (
    select scope, w.service_id, s.service_name, s.service_name as label, window_start,
        window_end, duration_seconds,
        len(incident_ids) as incident_count
    from impact_windows as w
    left join (select distinct service_id, service_name from incidents) as s
        on s.service_id = w.service_id
    where window_start < $end_ts and window_end > $start_ts
        and (len($service_ids) = 0 or scope = 'account'
             or list_contains($service_ids, w.service_id))
)
select * from final order by window_start, scope, service_name
