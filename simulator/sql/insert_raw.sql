-- Append one batch of generated records to a raw table. The batch is an Arrow table registered
-- as `raw_batch` (id, payload json text); every row gets the bound `fetched_at` (the account's
-- end). `{table}` is one of etl.warehouse.RAW_RESOURCES (an identifier checked against that
-- list, never a value). Plain insert, not upsert: the generator empties the raw layer first
-- and its ids are unique.
insert into {table}
select id, payload::json, $fetched_at::timestamptz
from raw_batch
