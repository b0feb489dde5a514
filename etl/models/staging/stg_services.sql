-- Services with their owning team (the first listed team).
with parsed as (
    select
        id,
        json_extract_string(payload, [
            '$.name', '$.status', '$.teams[0].id', '$.escalation_policy.id', '$.html_url'
        ]) as f
    from raw_services
),

final as (
    select
        id as service_id,
        f[1] as service_name,
        f[2] as status,
        f[3] as team_id,
        f[4] as escalation_policy_id,
        f[5] as html_url
    from parsed
)

select * from final
