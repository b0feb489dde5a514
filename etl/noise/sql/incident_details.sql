-- The custom details of each incident's first alert, as JSON text, for the structured alert
-- identity (etl/noise/identity.py): the trigger log entry's `channel.details` (the triggering
-- event's custom details, synced with the log entries), else the first alert's `body.details`
-- (else its `body.cef_details.details`) from raw_alerts, which the sync fetches exactly for
-- the incidents whose trigger entry carries no alert content. Only JSON objects are read.
with trigger_details as (
    select
        entries.incident_id,
        arg_min(
            json_extract(raw.payload, '$.channel.details')::varchar,
            struct_pack(created_at := entries.created_at, log_entry_id := entries.log_entry_id)
        ) as details
    from stg_log_entries as entries
    inner join raw_log_entries as raw on raw.id = entries.log_entry_id
    where entries.entry_type = 'trigger_log_entry'
        and json_type(raw.payload, '$.channel.details') = 'OBJECT'
    group by entries.incident_id
),

alerts as (
    select
        id,
        json_extract_string(payload, ['$.incident.id', '$.created_at']) as f,
        case
            when json_type(payload, '$.body.details') = 'OBJECT'
                then json_extract(payload, '$.body.details')::varchar
            when json_type(payload, '$.body.cef_details.details') = 'OBJECT'
                then json_extract(payload, '$.body.cef_details.details')::varchar
        end as details
    from raw_alerts
),

alert_details as (
    select
        f[1] as incident_id,
        arg_min(details, struct_pack(created_at := f[2], alert_id := id)) as details
    from alerts
    where details is not null
        and f[1] not in (select incident_id from trigger_details)
    group by f[1]
),

final as (
    select incident_id, details from trigger_details
    union all
    select incident_id, details from alert_details
)

select final.incident_id, final.details
from final
inner join noise_incidents using (incident_id)
order by final.incident_id
