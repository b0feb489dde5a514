-- Incidents loaded by this run whose alerts add information the log entries do not carry:
-- more than one alert (the trigger entry describes only the first), or one alert whose
-- trigger log entry has no alert content (no channel.details nor channel.cef_details, e.g.
-- an incident opened by e-mail or in the web UI). Incidents with no alert at all are skipped.
-- Alerts are listed per incident only, one request each: see docs/etl.md.
with touched as (
    select
        incidents.id,
        try_cast(json_extract_string(incidents.payload, '$.alert_counts.all') as bigint)
            as alert_count
    from raw_incidents as incidents
    inner join touched_incidents on touched_incidents.id = incidents.id
),

described as (
    select distinct json_extract_string(entries.payload, '$.incident.id') as incident_id
    from raw_log_entries as entries
    where json_extract_string(entries.payload, '$.type') = 'trigger_log_entry'
        and json_extract_string(entries.payload, '$.incident.id') in (select id from touched)
        and (
            coalesce(json_type(entries.payload, '$.channel.details'), 'NULL') <> 'NULL'
            or coalesce(json_type(entries.payload, '$.channel.cef_details'), 'NULL') <> 'NULL'
        )
),

final as (
    select touched.id
    from touched
    where touched.alert_count is null
        or touched.alert_count > 1
        or (
            touched.alert_count = 1
            and touched.id not in (select incident_id from described)
        )
)

select * from final
order by id
