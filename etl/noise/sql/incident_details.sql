-- The custom details of each incident's triggering event, as JSON text, for the structured
-- alert identity (etl/noise/identity.py): the trigger log entry's `channel.details` (synced
-- with the log entries through include[]=channels). Only JSON objects are kept. Incidents
-- without them get their first alert's details from alert_details.sql, run only when needed.
-- Materialized so the JSON test runs on the trigger entries only, not pushed down onto the
-- scan of every log entry.
with triggers as materialized (
    select
        entries.incident_id,
        entries.created_at,
        entries.log_entry_id,
        json_extract(raw.payload, '$.channel.details') as details
    from stg_log_entries as entries
    inner join raw_log_entries as raw on raw.id = entries.log_entry_id
    where entries.entry_type = 'trigger_log_entry'
),

final as (
    select
        incident_id,
        arg_min(
            details::varchar,
            struct_pack(created_at := created_at, log_entry_id := log_entry_id)
        ) as details
    from triggers
    where json_type(details) = 'OBJECT'
    group by incident_id
)

select final.incident_id, final.details
from final
inner join noise_incidents using (incident_id)
order by final.incident_id
