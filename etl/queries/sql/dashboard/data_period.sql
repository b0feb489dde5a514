-- params: none
select
    min(created_at) as first_created_at,
    max(created_at) as last_created_at,
    count(*) as incident_count
from incidents
