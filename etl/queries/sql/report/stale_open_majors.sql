-- Major incidents still open $stale_open_major_days days or more before $as_of (the end of the
-- data): each keeps an impact window open to the end of the data, so the report warns.
with final as (
    select
        incident_id,
        incident_number,
        title,
        service_name,
        team_name,
        priority_name,
        status,
        created_at,
        epoch($as_of - created_at) as seconds_open,
        html_url
    from incidents
    where is_major
        and status <> 'resolved'
        and resolved_at is null
        and created_at <= $as_of - to_seconds(cast($stale_open_major_days * 86400 as bigint))
)

select * from final order by created_at
