-- The first alert's custom details (`body.details`, else `body.cef_details.details`; JSON
-- objects only) of the incidents in $incident_ids: those whose trigger log entry carried none
-- (incident_details.sql). raw_alerts holds exactly the alerts the sync fetched for such
-- incidents (and for incidents with several alerts).
with alerts as materialized (
    select
        id,
        json_extract(
            payload,
            ['$.incident.id', '$.created_at', '$.body.details', '$.body.cef_details.details']
        ) as f
    from raw_alerts
),

described as (
    select
        id,
        f[1] ->> '$' as incident_id,
        f[2] ->> '$' as created_at,
        case
            when json_type(f[3]) = 'OBJECT' then f[3]::varchar
            when json_type(f[4]) = 'OBJECT' then f[4]::varchar
        end as details
    from alerts
),

final as (
    select
        incident_id,
        arg_min(details, struct_pack(created_at := created_at, alert_id := id)) as details
    from described
    where details is not null and incident_id in (select unnest($incident_ids::varchar[]))
    group by incident_id
)

select * from final
order by incident_id
