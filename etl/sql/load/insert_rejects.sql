-- Append one batch of rejected records (aligned lists, zipped by unnest).
insert into _rejects (source, record_key, reason, payload, run_id, rejected_at)
select
    unnest($sources),
    unnest($record_keys),
    unnest($reasons),
    unnest($payloads),
    $run_id,
    $rejected_at
