-- Services whose PagerDuty settings distort their metrics (docs/metrics.md "Service settings").
-- params: none
-- optional: service_setting_flags
select
    service_name,
    acknowledgement_timeout_seconds,
    auto_resolve_timeout_seconds,
    auto_resolve_timeout_share,
    retriggered_share,
    distortion,
    service_id
from service_setting_flags
where auto_resolve_distorts_mttr or ack_timeout_retriggers or orchestration_hides_incidents
order by service_name, service_id
