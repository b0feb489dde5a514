-- The optional resources the last successful sync could not read: one note each in the report.
-- params: none
-- optional: skipped_resources
select resource, http_status, reason, consequence
from skipped_resources
order by resource
