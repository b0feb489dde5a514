-- On-call periods. A NULL start or end (permanent on-call) is left NULL here; the marts clip
-- every period to the synced data period.
with parsed as (
    select
        id,
        json_extract_string(payload, [
            '$.user.id', '$.escalation_level', '$.schedule.id', '$.escalation_policy.id',
            '$.start', '$.end'
        ]) as f
    from raw_oncalls
),

final as (
    select
        id as oncall_id,
        f[1] as user_id,
        try_cast(f[2] as integer) as escalation_level,
        f[3] as schedule_id,
        f[4] as escalation_policy_id,
        try_cast(f[5] as timestamptz) as start_at,
        try_cast(f[6] as timestamptz) as end_at
    from parsed
)

select * from final
