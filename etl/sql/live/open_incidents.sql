-- Incidents still open in the warehouse, for the live worker's periodic refresh: it catches
-- the changes PagerDuty sends no webhook for (notifications, which move updated_at) and
-- deliveries that never arrived, between two nightly syncs.
select id
from raw_incidents
where json_extract_string(payload, '$.status') in ('triggered', 'acknowledged')
order by id
