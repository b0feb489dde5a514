-- Upsert one batch of records into a raw table, in one statement: the batch arrives as two
-- aligned lists (unnest zips them row by row). `{table}` is one of etl.warehouse.RAW_RESOURCES
-- (an identifier checked against that list, never a value); the values are bound.
-- Re-loading the same record replaces it: raw tables hold the latest state of each id.
-- A replaced row's fetched_at always moves forward, even when the clock did not (a frozen or
-- simulated clock, two loads in one microsecond): the incremental build (etl/incremental.py)
-- and the Iceberg export find changed rows by their fetched_at.
insert into {table}
select
    unnest($ids) as id,
    unnest($payloads)::json as payload,
    $fetched_at as fetched_at
on conflict (id) do update set
    payload = excluded.payload,
    fetched_at = greatest(excluded.fetched_at, {table}.fetched_at + interval 1 microsecond)
