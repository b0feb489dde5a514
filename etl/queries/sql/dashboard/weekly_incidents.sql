-- week_start is the incidents mart's own (the Monday in the reporting time zone, computed at
-- build time), so the dashboard never converts a million timestamps per rerun.
with filtered as (
    select *
    from incidents
    where created_at >= $start_ts and created_at < $end_ts
        and (len(cast($team_ids as varchar[])) = 0
             or list_contains(cast($team_ids as varchar[]), team_id))
        and (len(cast($service_ids as varchar[])) = 0
             or list_contains(cast($service_ids as varchar[]), service_id))
        and (len(cast($urgencies as varchar[])) = 0
             or list_contains(cast($urgencies as varchar[]), urgency))
),
final as (
    select week_start, count(*) as total_incident_count,
        count(first_ack_at) as total_incidents_acknowledged,
        count(*) filter (where auto_resolved) as total_incidents_auto_resolved,
        avg(seconds_to_first_ack) as mean_seconds_to_first_ack,
        quantile_cont(seconds_to_first_ack, 0.5) as p50_seconds_to_first_ack,
        quantile_cont(seconds_to_first_ack, 0.9) as p90_seconds_to_first_ack,
        avg(seconds_to_resolve) as mean_seconds_to_resolve,
        quantile_cont(seconds_to_resolve, 0.5) as p50_seconds_to_resolve,
        quantile_cont(seconds_to_resolve, 0.9) as p90_seconds_to_resolve,
        coalesce(sum(escalation_count), 0) as total_escalation_count,
        coalesce(sum(total_notifications), 0) as total_notifications,
        count(*) filter (where is_major) as total_major_incidents,
        avg(case when is_noise then 1.0 else 0.0 end) as noise_ratio
    from filtered
    group by week_start
)
select * from final order by week_start
