-- The first alert's summary (raw_alerts, by created_at then id) for the incidents of
-- noise_incidents whose trigger log entry carried no summary. Run by the noise step only when
-- there are such incidents, so the alerts' JSON is parsed only when it is needed.
update noise_incidents set summary = found.alert_summary
from (
    with alerts as (
        select
            id,
            json_extract_string(payload, ['$.incident.id', '$.summary', '$.created_at']) as f
        from raw_alerts
    ),

    final as (
        select
            f[1] as incident_id,
            arg_min(f[2], struct_pack(created_at := f[3], alert_id := id)) as alert_summary
        from alerts
        where f[2] is not null
            and f[1] in (select incident_id from noise_incidents where not has_event_summary)
        group by f[1]
    )

    select * from final
) as found
where found.incident_id = noise_incidents.incident_id
