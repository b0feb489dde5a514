-- The interruption counts of docs/metrics.md ("total_interruptions" and its three hour
-- buckets), written once: an aggregate over rows of int_interruptions, used as
-- `unnest(interruption_counts(bucket))` in a grouped select (responder_weekly per user,
-- int_group_weekly per service and team).
create or replace macro interruption_counts(bucket) as {
    'total_interruptions': count(*),
    'total_business_hour_interruptions': count(*) filter (where bucket = 'business'),
    'total_off_hour_interruptions': count(*) filter (where bucket = 'off_hour'),
    'total_sleep_hour_interruptions': count(*) filter (where bucket = 'sleep')
}
