-- Remember which incidents this run loaded (the alert fetch that follows reads them).
insert or ignore into touched_incidents
select unnest($ids)
