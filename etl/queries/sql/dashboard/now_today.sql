-- The "Now" page: the incident metrics of the day so far, in the reporting time zone: the
-- incidents created since midnight of the data's last day. The metrics are the models' own
-- macro (etl/models/macros/incident_metrics.sql); an incident not yet acknowledged or
-- resolved has no duration and is not in the mean (docs/metrics.md).
-- params: time_zone varchar
with period as (
    select
        data_end,
        timezone($time_zone, date_trunc('day', timezone($time_zone, data_end))) as day_start
    from stg_data_period
),

today as (
    select incidents.*
    from incidents
    cross join period
    where incidents.created_at >= period.day_start and incidents.created_at < period.data_end
),

metrics as (
    select unnest(incident_metrics(today))
    from today
),

final as (
    select period.day_start, period.data_end, metrics.*
    from metrics
    cross join period
)

select * from final
