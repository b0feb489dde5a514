-- The custom details of each incident's triggering event, as JSON text, for the structured
-- alert identity (etl/noise/identity.py): its first trigger log entry's `channel.details`
-- that is a JSON object (`stg_log_entries.trigger_details`, extracted in that model's own
-- pass over the raw JSON). A view, read once by recognise_identities.sql. Incidents without
-- them get their first alert's details from alert_details.sql, run only when needed.
create or replace temp view noise_incident_details as
with final as (
    select
        incident_id,
        arg_min(
            trigger_details,
            struct_pack(created_at := created_at, log_entry_id := log_entry_id)
        ) as details
    from stg_log_entries
    where entry_type = 'trigger_log_entry' and trigger_details is not null
    group by incident_id
)

select final.incident_id, final.details
from final
inner join noise_incidents using (incident_id)
