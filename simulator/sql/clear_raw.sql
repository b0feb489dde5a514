-- Empty one raw table before a generated account replaces the raw layer. `{table}` is one of
-- etl.warehouse.RAW_RESOURCES (an identifier checked against that list, never a value).
delete from {table}
