-- One row per service: its PagerDuty settings (stg_service_settings) and the two settings that
-- distort its metrics, measured on the synced incidents (docs/metrics.md "Service settings").
-- Auto-resolve makes MTTR a constant: the share of the service's resolved incidents whose
-- seconds_to_resolve lies in [auto_resolve_timeout, auto_resolve_timeout + tolerance].
-- An acknowledgement timeout re-triggers: the share of its acknowledged incidents that the
-- timeout turned back to triggered (an `unacknowledge_log_entry` on the `timeout` channel).
-- Event Orchestration hides incidents: an enabled rule that suppresses or drops events, or
-- suspends them (an alert resolved within the hold opens no incident), means the monitoring
-- sent more than the incidents show: counts, noise and MTTA leave those events out from the
-- orchestration's last change on (flagged whatever the period: PagerDuty keeps no rule history).
with hiding_rules as (
    select
        service_id,
        count(*) as hiding_rules,
        string_agg(
            format('{} ({})', coalesce(label, rule_id), case
                when suppress then 'suppress'
                when drop_event then 'drop'
                else format('suspend {:d} s', suspend_seconds)
            end),
            '; ' order by set_id = 'catch_all', set_id, rule_position
        ) as hiding_rule_labels,
        max(orchestration_updated_at) as orchestration_updated_at
    from stg_service_orchestration_rules
    where problem is null and not disabled
        and (suppress or drop_event or suspend_seconds is not null)
    group by service_id
),

resolutions as (
    select
        incidents.service_id,
        count(*) filter (where incidents.seconds_to_resolve is not null) as resolved_incidents,
        count(*) filter (
            where incidents.seconds_to_resolve
                between settings.auto_resolve_timeout_seconds
                and settings.auto_resolve_timeout_seconds + $auto_resolve_tolerance_seconds
        ) as resolved_at_auto_resolve_timeout,
        count(*) filter (where incidents.first_ack_at is not null) as acknowledged_incidents
    from incidents
    join stg_service_settings as settings on settings.service_id = incidents.service_id
    group by incidents.service_id
),

retriggers as (
    select
        incidents.service_id,
        count(*) as timeout_retriggers,
        count(distinct entries.incident_id) as retriggered_incidents
    from stg_log_entries as entries
    join incidents on incidents.incident_id = entries.incident_id
    where entries.entry_type = 'unacknowledge_log_entry' and entries.channel_type = 'timeout'
    group by incidents.service_id
),

measured as (
    select
        settings.*,
        coalesce(resolutions.resolved_incidents, 0) as resolved_incidents,
        coalesce(resolutions.resolved_at_auto_resolve_timeout, 0)
            as resolved_at_auto_resolve_timeout,
        coalesce(resolutions.resolved_at_auto_resolve_timeout, 0)
        / nullif(resolutions.resolved_incidents, 0) as auto_resolve_timeout_share,
        coalesce(resolutions.acknowledged_incidents, 0) as acknowledged_incidents,
        coalesce(retriggers.timeout_retriggers, 0) as timeout_retriggers,
        coalesce(retriggers.retriggered_incidents, 0) as retriggered_incidents,
        coalesce(retriggers.retriggered_incidents, 0)
        / nullif(resolutions.acknowledged_incidents, 0) as retriggered_share,
        coalesce(hiding_rules.hiding_rules, 0) as orchestration_hiding_rules,
        hiding_rules.hiding_rule_labels as orchestration_hiding_rule_labels,
        hiding_rules.orchestration_updated_at
    from stg_service_settings as settings
    left join resolutions on resolutions.service_id = settings.service_id
    left join retriggers on retriggers.service_id = settings.service_id
    left join hiding_rules on hiding_rules.service_id = settings.service_id
),

flagged as (
    select
        *,
        coalesce(
            auto_resolve_timeout_seconds is not null
            and auto_resolve_timeout_share >= $auto_resolve_constant_share,
            false
        ) as auto_resolve_distorts_mttr,
        coalesce(
            acknowledgement_timeout_seconds is not null
            and retriggered_share >= $retrigger_share,
            false
        ) as ack_timeout_retriggers,
        orchestration_hiding_rules > 0 as orchestration_hides_incidents
    from measured
),

final as (
    select
        *,
        nullif(concat_ws(
            '; ',
            case when auto_resolve_distorts_mttr then format(
                'MTTR: {:d} of {:d} resolved incidents ({:.0f}%) closed by the {:d} s '
                || 'auto-resolve timeout, so their time to resolve is the setting',
                resolved_at_auto_resolve_timeout, resolved_incidents,
                100 * auto_resolve_timeout_share, auto_resolve_timeout_seconds
            ) end,
            case when ack_timeout_retriggers then format(
                'Re-triggers: the {:d} s acknowledgement timeout re-triggered {:d} of {:d} '
                || 'acknowledged incidents ({:.0f}%), paging again: notifications and '
                || 'interruptions include the re-pages',
                acknowledgement_timeout_seconds, retriggered_incidents, acknowledged_incidents,
                100 * retriggered_share
            ) end,
            case when orchestration_hides_incidents then format(
                'Event Orchestration: {:d} rule(s) hold back matching events ({}), so no '
                || 'incident is created for them{}: counts, noise and MTTA leave them out',
                orchestration_hiding_rules, orchestration_hiding_rule_labels,
                coalesce(' since ' || strftime(orchestration_updated_at, '%Y-%m-%d'), '')
            ) end
        ), '') as distortion
    from flagged
)

select * from final
