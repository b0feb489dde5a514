-- Business impact windows per service and account-wide (docs/metrics.md "Business impact").
with windows as (
    select * from int_impact_windows_all
    where scope in ('service', 'account')
),

final as (
    select
        scope,
        case when scope = 'service' then scope_key end as service_id,
        window_start,
        window_end,
        duration_seconds,
        incident_ids,
        len(incident_ids) as incident_count,
        has_open_incident
    from windows
)

select * from final
