-- The primary key of a raw table the generator filled (clear_raw.sql dropped it): the table is
-- then the one etl.warehouse.RAW_SCHEMA creates, and later syncs upsert into it by id.
alter table {table} add primary key (id)
