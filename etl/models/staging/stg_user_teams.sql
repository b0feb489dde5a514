-- Every team a user belongs to (the user's `teams` references), one row per (user, team):
-- the dashboard's team filter on responders keeps the users of the picked teams. A user
-- without teams has no row.
with parsed as (
    select id, json_extract_string(payload, '$.teams[*].id') as team_ids
    from raw_users
),

memberships as (
    select id as user_id, unnest(team_ids) as team_id
    from parsed
),

final as (
    select distinct user_id, team_id
    from memberships
    where team_id is not null
)

select * from final
