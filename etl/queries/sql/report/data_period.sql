-- The span of the data: first and last incident, and the period the last successful sync
-- covered (the bookkeeping table may be absent in a warehouse built without a sync).
-- params: none
with final as (
    select
        min(created_at) as first_incident_at,
        max(created_at) as last_incident_at,
        count(*) as incident_count
    from incidents
)

select * from final
