-- Weeks with incidents, newest first (week_start: the mart's Monday in the reporting zone).
-- params: none
select distinct week_start from incidents order by week_start desc
