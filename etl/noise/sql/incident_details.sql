-- Which custom details identify each incident's alert, for the structured identity
-- (etl/noise/identity.py): its first trigger log entry's `channel.details` that is a JSON
-- object (`stg_log_entries.trigger_details`, extracted in that model's own pass over the raw
-- JSON), found by the noise_incidents model (incremental by incident). The text itself is not
-- read here, only the entry that holds it and the text's hash (`trigger_details_hash`): the
-- noise step remembers identities by that hash and reads the text of the details it has not
-- seen (etl/noise/alert_types.py). A view, read once.
-- Incidents without details get their first alert's from alert_details.sql, run only when
-- needed.
create or replace temp view noise_incident_details as
select incident_id, details_log_entry_id as log_entry_id, details_hash
from noise_incidents
where details_hash is not null
