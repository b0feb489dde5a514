-- Upsert one batch of records into a raw table, in one statement: the batch arrives as two
-- aligned lists (unnest zips them row by row). `{table}` is one of etl.warehouse.RAW_RESOURCES
-- (an identifier checked against that list, never a value); the values are bound.
-- Re-loading the same record replaces it: raw tables hold the latest state of each id.
insert or replace into {table}
select
    unnest($ids) as id,
    unnest($payloads)::json as payload,
    $fetched_at as fetched_at
