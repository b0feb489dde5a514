-- Custom-field changes kept aside: one row per change log entry (position 0) or changed field
-- (position 1, 2, ...) that incident_custom_fields could not read, with the reason. Counted
-- in _build_runs.rows like every model; docs/metrics.md "incident_custom_fields".
with final as (
    select
        log_entry_id,
        position,
        incident_id,
        created_at,
        field_name,
        reject_reason as reason
    from stg_custom_field_changes
    where reject_reason is not null
)

select * from final
