-- The account's custom fields (name, display name), for `pagerlens report --by-field`.
-- params: none
-- optional: incident_custom_fields
select field_name, any_value(display_name) as display_name, count(*) as incidents
from incident_custom_fields
group by field_name
order by field_name
