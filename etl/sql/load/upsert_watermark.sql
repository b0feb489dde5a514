-- Record how far a resource has been synced (see docs/etl.md, "Incremental").
insert or replace into _watermarks (resource, value, updated_at)
values ($resource, $value, $updated_at)
