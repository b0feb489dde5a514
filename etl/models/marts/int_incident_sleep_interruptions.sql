-- Per incident, the interruptions it started in its responders' sleep hours (the noise step's
-- `sleep_interruptions`): int_interruptions is per user, so it is rebuilt whole; this narrow
-- table is what the incident-keyed noise_incidents reads (etl/incremental_keyed.py compares
-- it with its previous version to find the incidents whose count changed).
with interruptions as (
    select * from int_interruptions
),

final as (
    select incident_id, count(*) as sleep_interruptions
    from interruptions
    where bucket = 'sleep' and incident_id is not null
    group by incident_id
)

select * from final
