-- Empty one raw table before a generated account replaces the raw layer: recreated without its
-- primary key, which key_raw.sql adds once every row is in. Building the key's index in one
-- pass over the finished table costs less than keeping it up to date through millions of
-- inserts of random ids (docs/benchmarks.md, "Simulator"). The columns are those of
-- etl.warehouse.RAW_SCHEMA (tests/simulator/test_generate_bytes.py compares the two).
-- `{table}` is one of etl.warehouse.RAW_RESOURCES (an identifier checked against that list,
-- never a value).
drop table {table};
create table {table} (
    id varchar not null,
    payload json using compression zstd not null,
    fetched_at timestamptz not null
);
