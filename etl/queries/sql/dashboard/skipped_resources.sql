-- The optional resources the last successful sync could not read, and what that means.
-- params: none
-- optional: skipped_resources
select resource, endpoint, http_status, reason, consequence, rows_kept, pagerduty_message
from skipped_resources
order by resource
