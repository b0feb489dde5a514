-- Which custom details identify each incident's alert, for the structured identity
-- (etl/noise/identity.py): its first trigger log entry's `channel.details` that is a JSON
-- object (`stg_log_entries.trigger_details`, extracted in that model's own pass over the raw
-- JSON). The text itself is not read here, only the entry that holds it and the text's hash
-- (`trigger_details_hash`): the noise step remembers identities by that hash and reads the
-- text of the details it has not seen (etl/noise/alert_types.py). A view, read once.
-- Incidents without details get their first alert's from alert_details.sql, run only when
-- needed.
create or replace temp view noise_incident_details as
with final as (
    select
        incident_id,
        arg_min(
            struct_pack(log_entry_id := log_entry_id, details_hash := trigger_details_hash),
            struct_pack(created_at := created_at, log_entry_id := log_entry_id)
        ) as first
    from stg_log_entries
    where entry_type = 'trigger_log_entry' and trigger_details_hash is not null
    group by incident_id
)

select final.incident_id, final.first.log_entry_id, final.first.details_hash
from final
inner join noise_incidents using (incident_id)
