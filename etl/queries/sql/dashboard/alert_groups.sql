select * from alert_groups order by occurrences desc, group_id
