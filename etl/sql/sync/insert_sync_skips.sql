-- The optional resources one successful run skipped (endpoint status and PagerDuty's message).
insert or replace into _sync_skips (run_id, resource, endpoint, http_status, message)
select $run_id, unnest($resources), unnest($endpoints), unnest($statuses), unnest($messages)
