-- Teams.
with parsed as (
    select id, json_extract_string(payload, ['$.name', '$.summary']) as f
    from raw_teams
),

final as (
    select id as team_id, coalesce(f[1], f[2]) as team_name
    from parsed
)

select * from final
