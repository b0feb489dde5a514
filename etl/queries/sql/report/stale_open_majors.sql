-- The models' stale_open_majors mart (major incidents still open long before the end of data).
-- params: none
-- optional: stale_open_majors
select *
from stale_open_majors
order by created_at
