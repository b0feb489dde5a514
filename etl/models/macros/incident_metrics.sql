-- The incident metrics of docs/metrics.md ("Weekly grain"), written once: an aggregate over a
-- set of rows of the incidents mart, used as `unnest(incident_metrics(<row alias>))` in a
-- grouped select. The marts apply it per group and reporting week (int_group_weekly,
-- incident_weekly_by_dimension); the dashboard applies it to the incidents its filters select
-- (an arbitrary date range, several teams, services and urgencies), a set no mart can hold:
-- a percentile of a union is not a function of the parts' percentiles, so precomputing cannot
-- serve it, and a second copy of the formulas is what this macro replaces.
-- Means and continuous percentiles are over the incidents whose duration is not NULL.
-- An incident merged into another (merged_into_incident_id set) is not a resolution of its
-- own: the counts, durations, majors and noise leave it out; its escalations and
-- notifications were sent, so the two sums keep them (docs/metrics.md "Merged incidents").
-- That rule is written once, below: the formulas read `counted`, the row or NULL for a merged
-- incident (aggregates skip NULLs, a filter on a NULL row's field is false), and the two sums
-- read `incident`, every row.
create or replace macro incident_metrics_of(incident, counted) as {
    'total_incident_count': count(counted),
    'total_incidents_acknowledged': count(counted.first_ack_at),
    'total_incidents_auto_resolved': count(*) filter (where counted.auto_resolved),
    'mean_seconds_to_first_ack': avg(counted.seconds_to_first_ack),
    'p50_seconds_to_first_ack': quantile_cont(counted.seconds_to_first_ack, 0.5),
    'p90_seconds_to_first_ack': quantile_cont(counted.seconds_to_first_ack, 0.9),
    'p95_seconds_to_first_ack': quantile_cont(counted.seconds_to_first_ack, 0.95),
    'mean_seconds_to_resolve': avg(counted.seconds_to_resolve),
    'p50_seconds_to_resolve': quantile_cont(counted.seconds_to_resolve, 0.5),
    'p90_seconds_to_resolve': quantile_cont(counted.seconds_to_resolve, 0.9),
    'p95_seconds_to_resolve': quantile_cont(counted.seconds_to_resolve, 0.95),
    'total_escalation_count': cast(coalesce(sum(incident.escalation_count), 0) as bigint),
    'total_notifications': cast(coalesce(sum(incident.total_notifications), 0) as bigint),
    'total_major_incidents': count(*) filter (where counted.is_major),
    'total_noise_incidents': count(*) filter (where counted.is_noise),
    'noise_ratio': count(*) filter (where counted.is_noise) / nullif(count(counted), 0)
};

create or replace macro incident_metrics(incident) as incident_metrics_of(
    incident, if(incident.merged_into_incident_id is null, incident, null)
);
