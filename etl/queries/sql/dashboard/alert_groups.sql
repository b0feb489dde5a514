-- params: none
-- optional: alert_groups
select * from alert_groups order by occurrences desc, group_id
