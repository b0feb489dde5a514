-- The reporting weeks (their Mondays in `time_zone`, as dates) that a span from `start_at` to
-- `end_at` touches, for cutting impact windows and on-call shifts at the week edges:
-- `unnest(reporting_weeks(start_at, end_at, $reporting_time_zone)) as week_start`.
create or replace macro reporting_weeks(start_at, end_at, time_zone) as
    cast(generate_series(
        date_trunc('week', timezone(time_zone, start_at)),
        date_trunc('week', timezone(time_zone, end_at)),
        interval 7 day
    ) as date[])
