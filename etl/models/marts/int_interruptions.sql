-- incremental: per interruption_id of int_interruption_sequence
-- incremental: rows looked up in incidents by incident_id
-- Interruptions (docs/metrics.md "Interruptions"): one row per interruption of a user (its
-- sequence: int_interruption_sequence) with the service and team of the incident it began with.
with sequence as (
    select * from int_interruption_sequence
),

final as (
    select
        sequence.interruption_id,
        sequence.user_id,
        sequence.started_at,
        sequence.local_started_at,
        sequence.effective_time_zone,
        sequence.bucket,
        sequence.night_of,
        sequence.notification_count,
        sequence.incident_id,
        incidents.service_id,
        incidents.team_id,
        sequence.week_start
    from sequence
    left join incidents on incidents.incident_id = sequence.incident_id
)

select * from final
