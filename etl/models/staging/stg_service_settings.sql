-- One row per service: the PagerDuty settings that shape its incidents. A timeout of 0 or null
-- is PagerDuty's "feature off" and becomes NULL here. `alert_grouping_type` is the service's
-- `alert_grouping_parameters.type` (time, intelligent, content_based; NULL: no grouping on the
-- service object; an `alert_grouping_setting_reference` type means grouping is configured in
-- the Alert Grouping Settings API). Auto-pause is off unless `enabled` is true.
with parsed as (
    select
        id,
        json_extract_string(payload, [
            '$.name',
            '$.acknowledgement_timeout',
            '$.auto_resolve_timeout',
            '$.alert_grouping_parameters.type',
            '$.alert_grouping_parameters.config.timeout',
            '$.alert_grouping_parameters.config.time_window',
            '$.auto_pause_notifications_parameters.enabled',
            '$.auto_pause_notifications_parameters.timeout',
            '$.incident_urgency_rule.type',
            '$.incident_urgency_rule.urgency',
            '$.alert_creation'
        ]) as f,
        json_extract(payload, '$.alert_grouping_parameters.config') as grouping_config
    from raw_services
),

final as (
    select
        id as service_id,
        f[1] as service_name,
        nullif(try_cast(f[2] as bigint), 0) as acknowledgement_timeout_seconds,
        nullif(try_cast(f[3] as bigint), 0) as auto_resolve_timeout_seconds,
        f[4] as alert_grouping_type,
        coalesce(try_cast(f[5] as bigint), try_cast(f[6] as bigint)) as alert_grouping_window_seconds,
        cast(grouping_config as varchar) as alert_grouping_config,
        coalesce(try_cast(f[7] as boolean), false) as auto_pause_enabled,
        try_cast(f[8] as bigint) as auto_pause_timeout_seconds,
        f[9] as urgency_rule_type,
        f[10] as constant_urgency,
        f[11] as alert_creation
    from parsed
)

select * from final
