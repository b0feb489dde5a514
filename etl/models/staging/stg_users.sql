-- Users with the time zone their interruptions are bucketed in: their own IANA zone when
-- it is one DuckDB knows, else the configured account zone (the REST API does not expose it).
with parsed as (
    select
        id,
        json_extract_string(payload, ['$.name', '$.email', '$.time_zone', '$.teams[0].id']) as f
    from raw_users
),

known_zones as (
    select distinct name as zone_name from pg_timezone_names()
),

final as (
    select
        parsed.id as user_id,
        f[1] as user_name,
        f[2] as email,
        nullif(f[3], '') as time_zone,
        coalesce(known_zones.zone_name, $account_time_zone) as effective_time_zone,
        f[4] as team_id
    from parsed
    left join known_zones on known_zones.zone_name = nullif(f[3], '')
)

select * from final
