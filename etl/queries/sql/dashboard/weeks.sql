-- Weeks with incidents, newest first (week_start: the mart's Monday in the reporting zone).
select distinct week_start from incidents order by week_start desc
